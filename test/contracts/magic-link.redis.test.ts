import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createRedisStore } from "../../src/infra/store";
import { MagicLinkStore, magicLinkEmailKey, magicLinkRequestKey, magicLinkTokenKey } from "../../src/methods/magic-link/magic-link.store";
import { describeMagicLinkContract } from "./magic-link.contract";
import { ManualClock } from "./otp-challenge.contract";

// global-setup guarantees a Redis (REDIS_URL or a throwaway redis-server).
const url = process.env.REDIS_URL as string;
// This file's keys only, so parallel test files sharing the Redis cannot collide.
const keyPrefix = `test:magic-link:${randomUUID()}:`;

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
      const before = new Set(await keysUnderPrefix());
      await links.create({ requestId, token, listenToken, matchCode: "47", email, ttlSeconds: 300, redirectUrl: null, userAgent: null, ip: null });
      await links.open(token);
      await links.consume(token, "13");
      await links.putAuth(requestId, "sealed-session");
      const created = (await keysUnderPrefix()).filter((k) => !before.has(k));
      expect(created.sort()).toEqual(
        [magicLinkRequestKey(requestId), magicLinkTokenKey(token), magicLinkEmailKey(email)].map((k) => `${keyPrefix}${k}`).sort(),
      );
      expect(await raw.exists(magicLinkRequestKey(requestId))).toBe(0);
      for (const key of created) {
        const type = await raw.type(key);
        const values = type === "hash" ? Object.entries(await raw.hgetall(key)).flat() : [(await raw.get(key)) as string];
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
