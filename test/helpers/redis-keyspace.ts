import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/**
 * A Redis key prefix of this test file's own (so files sharing a Redis cannot collide), a
 * plain client that sees keys as stored, and cleanup of every key under the prefix.
 * Registers its beforeAll/afterAll; call it at the top of a test file.
 */
export function useRedisKeyspace(name: string) {
  // global-setup guarantees a Redis (REDIS_URL or a throwaway redis-server).
  const url = process.env.REDIS_URL as string;
  const keyPrefix = `test:${name}:${randomUUID()}:`;
  let raw: Redis | undefined;

  const client = (): Redis => {
    if (!raw) throw new Error("useRedisKeyspace: the client exists from beforeAll on");
    return raw;
  };

  const keysUnder = (prefix = keyPrefix): Promise<string[]> => scanKeys(client(), prefix);

  beforeAll(() => {
    raw = new Redis(url);
  });

  afterAll(async () => {
    await deleteKeysUnder(client(), keyPrefix);
    await client().quit();
  });

  return { url, keyPrefix, raw: client, keysUnder };
}

/** Every key under `prefix` (SCAN, never KEYS). */
export async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
}

/** Removes every key under `prefix` (a test's own keyspace, queue metadata included). */
export async function deleteKeysUnder(redis: Redis | string, prefix: string): Promise<void> {
  const client = typeof redis === "string" ? new Redis(redis) : redis;
  try {
    const keys = await scanKeys(client, prefix);
    for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  } finally {
    if (client !== redis) await client.quit();
  }
}
