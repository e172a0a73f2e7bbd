import { randomUUID } from "node:crypto";
import type { AtomicScript, KeyValueStore } from "../../src/core/ports";
import { sleep } from "../helpers/wait";

export interface StoreUnderTest {
  store: KeyValueStore;
  /** Moves the store's clock; without it the suite waits in real time (Redis). */
  advance?: (ms: number) => void;
  cleanup: () => Promise<void>;
}

/**
 * A sample of what the sign-in methods do with `run`: a secret that may be guessed a
 * limited number of times. Key: a hash { secret, attempts }. ARGV: guess, maxAttempts.
 * Reply: [status, attemptsRemaining]; "ok" consumes it, the last wrong guess deletes
 * it, and a missing key (expired, consumed, exhausted) is "dead".
 */
export const consumeSecret: AtomicScript<{ status: "ok" | "wrong" | "dead"; attemptsRemaining: number }> = {
  name: "test-consume-secret",
  lua: `
local secret = redis.call('HGET', KEYS[1], 'secret')
if not secret then return {'dead', 0} end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
local remaining = tonumber(ARGV[2]) - attempts
if secret == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {'ok', remaining}
end
attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
remaining = tonumber(ARGV[2]) - attempts
if remaining <= 0 then redis.call('DEL', KEYS[1]) end
return {'wrong', remaining}
`,
  local(redis, [key], [guess, maxAttempts]) {
    const secret = redis.hget(key, "secret");
    if (secret === null) return ["dead", 0];
    const attempts = Number(redis.hget(key, "attempts") ?? "0");
    if (secret === guess) {
      redis.del(key);
      return ["ok", Number(maxAttempts) - attempts];
    }
    const remaining = Number(maxAttempts) - redis.hincrby(key, "attempts", 1);
    if (remaining <= 0) redis.del(key);
    return ["wrong", remaining];
  },
  parse(reply) {
    const [status, attemptsRemaining] = reply as ["ok" | "wrong" | "dead", number];
    return { status, attemptsRemaining };
  },
};

/** Stores a secret for `consumeSecret`. ARGV: secret, ttlMs. Replies nothing (nil). */
export const storeSecret: AtomicScript<void> = {
  name: "test-store-secret",
  lua: `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'secret', ARGV[1], 'attempts', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
`,
  local(redis, [key], [secret, ttlMs]) {
    redis.del(key);
    redis.hset(key, "secret", secret);
    redis.hset(key, "attempts", "0");
    redis.pexpire(key, Number(ttlMs));
  },
  parse() {},
};

/** Returns the hash and its TTL as Redis shapes them, to compare the twins' raw replies. */
export const inspectHash: AtomicScript<unknown> = {
  name: "test-inspect-hash",
  lua: `
local flat = redis.call('HGETALL', KEYS[1])
local fields = {}
for i = 1, #flat, 2 do fields[#fields + 1] = flat[i] .. '=' .. flat[i + 1] end
table.sort(fields)
return {redis.call('EXISTS', KEYS[1]), redis.call('PTTL', KEYS[1]) > 0, fields}
`,
  local(redis, [key]) {
    const fields = Object.entries(redis.hgetall(key)).map(([field, value]) => `${field}=${value}`).sort();
    return [redis.exists(key) ? 1 : 0, redis.pttl(key) > 0, fields];
  },
  parse: (reply) => reply,
};

/** HDEL of one field. KEYS: [hash]. ARGV: [field]. Replies what HDEL replies (1 or 0). */
export const dropField: AtomicScript<number> = {
  name: "test-drop-field",
  lua: `return redis.call('HDEL', KEYS[1], ARGV[1])`,
  local: (redis, [key], [field]) => redis.hdel(key, field),
  parse: (reply) => reply as number,
};

/** Every Lua type Redis converts, to hold the in-process twin to the same reply shape. */
export const replyShapes: AtomicScript<unknown> = {
  name: "test-reply-shapes",
  lua: `return {7, 'seven', false, true, {1, {2}}, 3.7, -2.5, ARGV[1], #KEYS}`,
  local: (_redis, keys, args) => [7, "seven", false, true, [1, [2]], 3.7, -2.5, args[0], keys.length],
  parse: (reply) => reply,
};

export const nilReply: AtomicScript<unknown> = {
  name: "test-nil-reply",
  lua: `return redis.call('GET', KEYS[1])`,
  local: (redis, [key]) => redis.get(key),
  parse: (reply) => reply,
};


/**
 * What every `KeyValueStore` must do, run against Redis and the in-process store alike,
 * so the sign-in methods behave the same on a single instance and a cluster.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`KeyValueStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: KeyValueStore;
    // Short real TTLs on Redis; a moved clock in process.
    const elapse = async (ms: number) => (subject.advance ? subject.advance(ms) : sleep(ms));
    const key = (label: string) => `${label}:${randomUUID()}`;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe("get / set", () => {
      it("returns null for a key never set", async () => {
        expect(await store.get(key("missing"))).toBeNull();
      });

      it("returns what was set, as a string", async () => {
        const k = key("set");
        await store.set(k, "value", 10_000);
        expect(await store.get(k)).toBe("value");
      });

      it("overwrites the value and the TTL", async () => {
        const k = key("overwrite");
        await store.set(k, "first", 100);
        await store.set(k, "second", 10_000);
        await elapse(200);
        expect(await store.get(k)).toBe("second");
      });

      it("forgets a key once its TTL is over", async () => {
        const k = key("ttl");
        await store.set(k, "value", 100);
        expect(await store.get(k)).toBe("value");
        await elapse(200);
        expect(await store.get(k)).toBeNull();
      });

      it("rejects a TTL that is not positive", async () => {
        await expect(store.set(key("bad-ttl"), "value", 0)).rejects.toThrow(RangeError);
        await expect(store.set(key("bad-ttl"), "value", -5)).rejects.toThrow(RangeError);
      });
    });

    describe("setIfAbsent", () => {
      it("sets a missing key and reports it", async () => {
        const k = key("nx");
        expect(await store.setIfAbsent(k, "first", 10_000)).toBe(true);
        expect(await store.get(k)).toBe("first");
      });

      it("leaves an existing key alone", async () => {
        const k = key("nx");
        await store.set(k, "first", 10_000);
        expect(await store.setIfAbsent(k, "second", 10_000)).toBe(false);
        expect(await store.get(k)).toBe("first");
      });

      it("sets again once the previous value expired", async () => {
        const k = key("nx");
        expect(await store.setIfAbsent(k, "first", 100)).toBe(true);
        await elapse(200);
        expect(await store.setIfAbsent(k, "second", 10_000)).toBe(true);
        expect(await store.get(k)).toBe("second");
      });

      it("lets exactly one of many concurrent callers win", async () => {
        const k = key("nx-race");
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.setIfAbsent(k, `caller-${i}`, 10_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.get(k)).toBe(`caller-${results.indexOf(true)}`);
      });
    });

    describe("del", () => {
      it("counts only the keys that existed", async () => {
        const [a, b, missing] = [key("del-a"), key("del-b"), key("del-missing")];
        await store.set(a, "1", 10_000);
        await store.set(b, "2", 10_000);
        expect(await store.del(a, b, missing)).toBe(2);
        expect(await store.get(a)).toBeNull();
        expect(await store.get(b)).toBeNull();
      });

      it("does not count an expired key", async () => {
        const k = key("del-expired");
        await store.set(k, "1", 100);
        await elapse(200);
        expect(await store.del(k)).toBe(0);
      });

      it("accepts no keys", async () => {
        expect(await store.del()).toBe(0);
      });
    });

    describe("hit (fixed window counter)", () => {
      it("counts events and reports the time left in the window", async () => {
        const k = key("hit");
        const first = await store.hit(k, 10_000);
        expect(first.count).toBe(1);
        expect(first.resetInMs).toBeGreaterThan(0);
        expect(first.resetInMs).toBeLessThanOrEqual(10_000);

        const second = await store.hit(k, 10_000);
        expect(second.count).toBe(2);
        expect(second.resetInMs).toBeGreaterThan(0);
        expect(second.resetInMs).toBeLessThanOrEqual(first.resetInMs);
      });

      it("keeps the window that started at the first event", async () => {
        const k = key("hit-window");
        await store.hit(k, 300);
        await elapse(150);
        const later = await store.hit(k, 300);
        expect(later.count).toBe(2);
        expect(later.resetInMs).toBeLessThanOrEqual(150);
      });

      it("starts a new window once the previous one is over", async () => {
        const k = key("hit-reset");
        await store.hit(k, 100);
        await store.hit(k, 100);
        await elapse(200);
        const next = await store.hit(k, 10_000);
        expect(next.count).toBe(1);
        expect(next.resetInMs).toBeGreaterThan(100);
      });

      it("counts every one of many concurrent events", async () => {
        const k = key("hit-race");
        const results = await Promise.all(Array.from({ length: 50 }, () => store.hit(k, 10_000)));
        expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      });
    });

    describe("run (atomic scripts)", () => {
      it("returns the raw reply the way Redis converts Lua values", async () => {
        const tag = `{${randomUUID()}}`;
        expect(await store.run(replyShapes, [`${tag}:a`, `${tag}:b`], ["arg", 42])).toEqual([
          7,
          "seven",
          null,
          1,
          [1, [2]],
          3,
          -2,
          "arg",
          2,
        ]);
        expect(await store.run(nilReply, [key("nil")], [])).toBeNull();
      });

      it("passes numeric arguments as strings, like Redis ARGV", async () => {
        const k = key("argv");
        await store.run(storeSecret, [k], [123456, 10_000]);
        expect(await store.run(consumeSecret, [k], ["123456", 5])).toEqual({ status: "ok", attemptsRemaining: 5 });
      });

      it("keeps hash fields and the TTL a script set", async () => {
        const k = key("hash");
        await store.run(storeSecret, [k], ["s3cret", 10_000]);
        await store.run(consumeSecret, [k], ["wrong", 5]);
        expect(await store.run(inspectHash, [k], [])).toEqual([1, 1, ["attempts=1", "secret=s3cret"]]);
      });

      it("consumes the secret on the right guess", async () => {
        const k = key("consume");
        await store.run(storeSecret, [k], ["s3cret", 10_000]);
        expect(await store.run(consumeSecret, [k], ["s3cret", 5])).toEqual({ status: "ok", attemptsRemaining: 5 });
        expect(await store.run(consumeSecret, [k], ["s3cret", 5])).toEqual({ status: "dead", attemptsRemaining: 0 });
      });

      it("counts wrong guesses and deletes the secret at the last one", async () => {
        const k = key("attempts");
        await store.run(storeSecret, [k], ["s3cret", 10_000]);
        for (const remaining of [2, 1, 0]) {
          expect(await store.run(consumeSecret, [k], ["nope", 3])).toEqual({ status: "wrong", attemptsRemaining: remaining });
        }
        expect(await store.run(consumeSecret, [k], ["s3cret", 3])).toEqual({ status: "dead", attemptsRemaining: 0 });
        expect(await store.run(inspectHash, [k], [])).toEqual([0, null, []]);
      });

      it("sees a secret as dead once its TTL is over", async () => {
        const k = key("expired-secret");
        await store.run(storeSecret, [k], ["s3cret", 100]);
        await elapse(200);
        expect(await store.run(consumeSecret, [k], ["s3cret", 5])).toEqual({ status: "dead", attemptsRemaining: 0 });
      });

      it("lets exactly one of 50 concurrent right guesses succeed", async () => {
        const k = key("race-right");
        await store.run(storeSecret, [k], ["s3cret", 10_000]);
        const results = await Promise.all(Array.from({ length: 50 }, () => store.run(consumeSecret, [k], ["s3cret", 5])));
        expect(results.filter((r) => r.status === "ok")).toHaveLength(1);
        expect(results.filter((r) => r.status === "dead")).toHaveLength(49);
      });

      it("counts exactly the attempt limit out of 50 concurrent wrong guesses", async () => {
        const k = key("race-wrong");
        await store.run(storeSecret, [k], ["s3cret", 10_000]);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.run(consumeSecret, [k], [`wrong-${i}`, 5])),
        );
        const counted = results.filter((r) => r.status === "wrong");
        expect(counted.map((r) => r.attemptsRemaining).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
        expect(results.filter((r) => r.status === "dead")).toHaveLength(45);
        // Exhausted: even the right secret is refused now.
        expect(await store.run(consumeSecret, [k], ["s3cret", 5])).toEqual({ status: "dead", attemptsRemaining: 0 });
      });

      it("rejects when the script fails", async () => {
        const k = key("wrongtype");
        await store.set(k, "a string", 10_000);
        await expect(store.run(consumeSecret, [k], ["s3cret", 5])).rejects.toThrow(/WRONGTYPE/);
      });

      it("refuses KEYS without one shared hash tag, as a Redis Cluster would (CROSSSLOT)", async () => {
        await expect(store.run(replyShapes, [key("a"), key("b")], [])).rejects.toThrow(/test-reply-shapes: its KEYS must share one hash tag/);
        const tag = `{${randomUUID()}}`;
        await expect(store.run(replyShapes, [`x:${tag}`, `y:${tag}`], ["arg"])).resolves.toHaveLength(9);
      });
    });

    describe("run: HDEL in a script", () => {
      it("deletes the field, replies 1, and keeps the other fields and the TTL", async () => {
        const k = key("hdel");
        await store.run(storeSecret, [k], ["s3cret", 10_000]);
        expect(await store.run(dropField, [k], ["secret"])).toBe(1);
        expect(await store.run(inspectHash, [k], [])).toEqual([1, 1, ["attempts=0"]]);
      });

      it("replies 0 for a field or a key that is not there, and creates nothing", async () => {
        const [k, missing] = [key("hdel-field"), key("hdel-missing")];
        await store.run(storeSecret, [k], ["s3cret", 10_000]);
        expect(await store.run(dropField, [k], ["nope"])).toBe(0);
        expect(await store.run(inspectHash, [k], [])).toEqual([1, 1, ["attempts=0", "secret=s3cret"]]);
        expect(await store.run(dropField, [missing], ["secret"])).toBe(0);
        expect(await store.run(inspectHash, [missing], [])).toEqual([0, null, []]);
      });

      it("deletes the key with its last field", async () => {
        const k = key("hdel-last");
        await store.run(storeSecret, [k], ["s3cret", 10_000]);
        expect(await store.run(dropField, [k], ["secret"])).toBe(1);
        expect(await store.run(dropField, [k], ["attempts"])).toBe(1);
        expect(await store.run(inspectHash, [k], [])).toEqual([0, null, []]);
        expect(await store.setIfAbsent(k, "free again", 10_000)).toBe(true);
      });

      it("lets the remaining fields expire with the key's TTL", async () => {
        const k = key("hdel-ttl");
        await store.run(storeSecret, [k], ["s3cret", 100]);
        await store.run(dropField, [k], ["secret"]);
        await elapse(200);
        expect(await store.run(inspectHash, [k], [])).toEqual([0, null, []]);
      });

      it("rejects HDEL on a key that is not a hash", async () => {
        const k = key("hdel-string");
        await store.set(k, "a string", 10_000);
        await expect(store.run(dropField, [k], ["secret"])).rejects.toThrow(/WRONGTYPE/);
      });
    });

    describe("ping / close", () => {
      it("ping resolves while the store answers", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it("close may be called more than once (shutdown paths overlap)", async () => {
        await store.close();
        await expect(store.close()).resolves.toBeUndefined();
      });
    });
  });
}
