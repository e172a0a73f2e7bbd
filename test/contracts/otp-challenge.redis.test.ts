import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createRedisStore } from "../../src/infra/store";
import { OtpChallengeStore, otpChallengeKey, otpDestinationKey } from "../../src/methods/otp/otp-challenge.store";
import { ManualClock, describeOtpChallengeContract } from "./otp-challenge.contract";

// global-setup guarantees a Redis (REDIS_URL or a throwaway redis-server).
const url = process.env.REDIS_URL as string;
// This file's keys only, so parallel test files sharing the Redis cannot collide.
const keyPrefix = `test:otp:${randomUUID()}:`;

/** Sees the keys as stored, without the prefix. */
let raw: Redis;

async function keysUnderPrefix(): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
}

beforeAll(() => {
  raw = new Redis(url);
});

afterAll(async () => {
  const keys = await keysUnderPrefix();
  if (keys.length > 0) await raw.del(...keys);
  await raw.quit();
});

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
      const before = new Set(await keysUnderPrefix());
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
      const created = (await keysUnderPrefix()).filter((k) => !before.has(k));
      expect(created.sort()).toEqual(
        [`${keyPrefix}${otpChallengeKey(challengeId)}`, `${keyPrefix}${otpDestinationKey("SIGN_IN", "raw-scan@example.com")}`].sort(),
      );
      expect(await raw.exists(`otp:challenge:${challengeId}`)).toBe(0);
      for (const key of created) {
        const type = await raw.type(key);
        const values = type === "hash" ? Object.entries(await raw.hgetall(key)).flat() : [(await raw.get(key)) as string];
        expect(values.filter((v) => v.includes("7305918264"))).toEqual([]);
        expect(key).not.toContain("7305918264");
        expect(key).not.toContain("raw-scan@example.com");
      }
    } finally {
      await store.close();
    }
  });
});
