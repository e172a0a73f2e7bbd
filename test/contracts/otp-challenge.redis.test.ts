import { randomBytes, randomUUID } from "node:crypto";
import { createRedisStore } from "../../src/infra/store";
import { useRedisKeyspace } from "../helpers/redis-keyspace";
import { OtpChallengeStore, otpChallengeKey, otpChallengeTagKey, otpDestinationKey, otpDestinationTag } from "../../src/methods/otp/otp-challenge.store";
import { ManualClock, describeOtpChallengeContract } from "./otp-challenge.contract";

const { url, keyPrefix: keyPrefix, raw: redis, keysUnder } = useRedisKeyspace("otp");

// Redis keeps real time for its TTLs; the challenge's `now` comes from a clock the
// tests move, which works while the key's TTL (code TTL + grace) has not run out.
describeOtpChallengeContract("redis", async () => {
  const store = createRedisStore({ url, keyPrefix });
  return { store, clock: new ManualClock(), cleanup: () => store.close() };
});

describe("OtpChallengeStore on Redis", () => {
  it("keeps no code anywhere under the store's prefix, and no key outside it", async () => {
    const store = createRedisStore({ url, keyPrefix });
    try {
      const challenges = new OtpChallengeStore(store, new ManualClock(), randomBytes(32));
      const challengeId = randomUUID();
      const before = new Set(await keysUnder());
      await challenges.create({
        challengeId,
        code: "7305918264",
        purpose: "SIGN_IN",
        channel: "EMAIL",
        destination: "raw-scan@example.com",
        userId: null,
        ttlSeconds: 300,
        maxAttempts: 5,
      });
      const created = (await keysUnder()).filter((k) => !before.has(k));
      expect(created.sort()).toEqual(
        [
          otpChallengeKey(otpDestinationTag("SIGN_IN", "raw-scan@example.com"), challengeId),
          otpDestinationKey("SIGN_IN", "raw-scan@example.com"),
          otpChallengeTagKey(challengeId),
        ]
          .map((k) => `${keyPrefix}${k}`)
          .sort(),
      );
      expect(await redis().exists(otpChallengeTagKey(challengeId))).toBe(0);
      for (const key of created) {
        const type = await redis().type(key);
        const values = type === "hash" ? Object.entries(await redis().hgetall(key)).flat() : [(await redis().get(key)) as string];
        expect(values.filter((v) => v.includes("7305918264"))).toEqual([]);
        expect(key).not.toContain("7305918264");
        expect(key).not.toContain("raw-scan@example.com");
      }
    } finally {
      await store.close();
    }
  });
});
