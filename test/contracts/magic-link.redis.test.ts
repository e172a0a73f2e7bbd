import { randomBytes, randomUUID } from "node:crypto";
import { createRedisStore } from "../../src/infra/store";
import { useRedisKeyspace } from "../helpers/redis-keyspace";
import { MagicLinkStore, magicLinkEmailKey, magicLinkEmailTag, magicLinkRequestKey, magicLinkTagKey, magicLinkTokenKey, magicLinkTokenRefKey } from "../../src/methods/magic-link/magic-link.store";
import { describeMagicLinkContract } from "./magic-link.contract";
import { ManualClock } from "./otp-challenge.contract";

const { url, keyPrefix: keyPrefix, raw: redis, keysUnder } = useRedisKeyspace("magic-link");

// Redis keeps real time for its TTLs; the links' `now` comes from a clock the tests
// move, which works while the keys' TTLs (link TTL, + grace for request and token) last.
describeMagicLinkContract("redis", async () => {
  const store = createRedisStore({ url, keyPrefix });
  return { store, clock: new ManualClock(), cleanup: () => store.close() };
});

describe("MagicLinkStore on Redis", () => {
  it("keeps no token, listen token or email in any key or value under the prefix, and no key outside it", async () => {
    const store = createRedisStore({ url, keyPrefix });
    try {
      const links = new MagicLinkStore(store, new ManualClock(), { maxMatchAttempts: 5 });
      const requestId = randomUUID();
      const token = randomBytes(32).toString("base64url");
      const listenToken = randomBytes(32).toString("base64url");
      const email = "raw-scan@example.com";
      const before = new Set(await keysUnder());
      await links.create({ requestId, token, listenToken, matchCode: "47", email, ttlSeconds: 300, redirectUrl: null, userAgent: null, ip: null });
      await links.open(token);
      await links.consume(token, "13");
      await links.putAuth(requestId, "sealed-session");
      const created = (await keysUnder()).filter((k) => !before.has(k));
      expect(created.sort()).toEqual(
        [magicLinkRequestKey(magicLinkEmailTag(email), requestId), magicLinkTokenKey(token), magicLinkTokenRefKey(token), magicLinkEmailKey(email), magicLinkTagKey(requestId)]
          .map((k) => `${keyPrefix}${k}`)
          .sort(),
      );
      expect(await redis().exists(magicLinkTagKey(requestId))).toBe(0);
      for (const key of created) {
        const type = await redis().type(key);
        const values = type === "hash" ? Object.entries(await redis().hgetall(key)).flat() : [(await redis().get(key)) as string];
        expect(values.length).toBeGreaterThan(0);
        for (const secret of [token, listenToken]) {
          expect(values.filter((v) => v.includes(secret))).toEqual([]);
          expect(key).not.toContain(secret);
        }
        expect(key).not.toContain(email);
      }
    } finally {
      await store.close();
    }
  });
});
