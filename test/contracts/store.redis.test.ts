import { createHash, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RedisStore, createRedisStore } from "../../src/infra/store";
import { silentServer } from "../helpers/ports";
import { deleteKeysUnder } from "../helpers/redis-keyspace";
import { consumeSecret, describeStoreContract, storeSecret } from "./store.contract";

// global-setup guarantees a Redis (REDIS_URL or a throwaway redis-server).
const url = process.env.REDIS_URL as string;
// This file's keys only, so parallel test files sharing the Redis cannot collide.
const keyPrefix = `test:${randomUUID()}:`;

/** Sees the keys as stored, without the prefix. */
let raw: Redis;

beforeAll(() => {
  raw = new Redis(url);
});

afterAll(async () => {
  await deleteKeysUnder(raw, keyPrefix);
  await raw.quit();
});

// Runs first: ioredis keeps a 2 s timer after closing the hung connections below
// (AbstractConnector's disconnectTimeout), which the contract suite outlasts.
describe("RedisStore", () => {
  let store: RedisStore;

  beforeEach(() => {
    store = new RedisStore({ url, keyPrefix });
  });

  afterEach(async () => {
    await store.close();
  });

  it("prefixes plain keys and script KEYS alike", async () => {
    await store.set("plain", "value", 10_000);
    await store.run(storeSecret, ["scripted"], ["s3cret", 10_000]);
    expect(await raw.get(`${keyPrefix}plain`)).toBe("value");
    expect(await raw.hget(`${keyPrefix}scripted`, "secret")).toBe("s3cret");
    expect(await raw.exists("plain", "scripted")).toBe(0);
  });

  it("gives a hit counter its window as a Redis TTL", async () => {
    await store.hit("window", 10_000);
    const ttl = await raw.pttl(`${keyPrefix}window`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it("repairs a counter left without a TTL instead of counting forever", async () => {
    await raw.set(`${keyPrefix}stuck`, "7");
    const hit = await store.hit("stuck", 10_000);
    expect(hit).toEqual({ count: 8, resetInMs: 10_000 });
    expect(await raw.pttl(`${keyPrefix}stuck`)).toBeGreaterThan(0);
  });

  it("loads a script again after the server's script cache was flushed", async () => {
    await store.run(storeSecret, ["flushed"], ["s3cret", 10_000]);
    await raw.script("FLUSH");
    await expect(store.run(consumeSecret, ["flushed"], ["s3cret", 5])).resolves.toEqual({
      status: "ok",
      attemptsRemaining: 5,
    });
    // The EVAL fallback cached it again, so the next EVALSHA finds it.
    const sha = createHash("sha1").update(consumeSecret.lua).digest("hex");
    expect(await raw.script("EXISTS", sha)).toEqual([1]);
  });

  it("ping fails fast when Redis does not answer", async () => {
    const server = await silentServer();
    // ioredis waits for the hung server, ping must not.
    const hung = new RedisStore({ url: `redis://127.0.0.1:${server.port}`, pingTimeoutMs: 200, onError: () => {} });
    try {
      const started = Date.now();
      await expect(hung.ping()).rejects.toThrow(/PING/);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await hung.close();
      await server.close();
    }
  });

  it("accepts only redis:// and rediss:// URLs", () => {
    expect(() => new RedisStore({ url: "http://127.0.0.1:6379" })).toThrow(/must start with redis:\/\/ or rediss:\/\//);
  });

  it("speaks TLS for rediss://", async () => {
    const server = await silentServer();
    const tls = new RedisStore({ url: `rediss://127.0.0.1:${server.port}`, onError: () => {} });
    try {
      // A TLS connection opens with a handshake record (content type 0x16); RESP never does.
      expect(await server.firstByte).toBe(0x16);
    } finally {
      await tls.close();
      await server.close();
    }
  });
});

describeStoreContract("redis", async () => {
  const store = createRedisStore({ url, keyPrefix });
  return {
    store,
    cleanup: async () => {
      await store.close();
    },
  };
});
