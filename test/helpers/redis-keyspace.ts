import { randomUUID } from "node:crypto";
import { Cluster, Redis } from "ioredis";
import type { RedisClusterTarget } from "../../src/infra/store";

/**
 * A Redis key prefix of this test file's own (so files sharing a Redis cannot collide), a
 * plain client that sees keys as stored, and cleanup of every key under the prefix.
 * Registers its beforeAll/afterAll; call it at the top of a test file.
 */
export function useRedisKeyspace(name: string) {
  // global-setup guarantees a Redis (REDIS_URL or a throwaway redis-server).
  const url = process.env.REDIS_URL as string;
  return useKeyspace(name, url, () => new Redis(url));
}

/**
 * The same over the run's Redis Cluster (global-setup starts one, or TEST_REDIS_CLUSTER_NODES
 * names one): `url` is the cluster's target for the store, bus and queue; `raw` routes
 * each command to the node holding its key.
 */
export function useRedisClusterKeyspace(name: string) {
  const target = testClusterTarget();
  return useKeyspace(name, target, () => new Cluster(target.cluster));
}

/** The run's Redis Cluster, or why there is none (redis-server missing). */
export function testClusterTarget(): RedisClusterTarget {
  const nodes = process.env.TEST_REDIS_CLUSTER_NODES;
  if (!nodes) throw new Error(process.env.TEST_REDIS_CLUSTER_MISSING ?? "TEST_REDIS_CLUSTER_NODES is not set: the jest global setup should have started a Redis Cluster");
  return {
    cluster: nodes.split(",").map((node) => {
      const [host, port] = node.split(":");
      return { host, port: Number(port) };
    }),
  };
}

function useKeyspace<T>(name: string, url: T, connect: () => Redis | Cluster) {
  const keyPrefix = `test:${name}:${randomUUID()}:`;
  let raw: Redis | Cluster | undefined;

  const client = (): Redis | Cluster => {
    if (!raw) throw new Error("useRedisKeyspace: the client exists from beforeAll on");
    return raw;
  };

  const keysUnder = (prefix = keyPrefix): Promise<string[]> => scanKeys(client(), prefix);

  beforeAll(() => {
    raw = connect();
  });

  afterAll(async () => {
    await deleteKeysUnder(client(), keyPrefix);
    await client().quit();
  });

  return { url, keyPrefix, raw: client, keysUnder };
}

/** Every key under `prefix` (SCAN, never KEYS), on every master of a cluster. */
export async function scanKeys(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  // A cluster knows its masters once its slot map is in.
  if (redis instanceof Cluster && redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  const nodes = redis instanceof Cluster ? redis.nodes("master") : [redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      found.push(...keys);
      cursor = next;
    } while (cursor !== "0");
  }
  return found;
}

/**
 * Removes every key under `prefix` (a test's own keyspace), and under `{prefix`: BullMQ's
 * keys, whose queue prefix is braced (one cluster slot per queue).
 */
export async function deleteKeysUnder(redis: Redis | Cluster | string | RedisClusterTarget, prefix: string): Promise<void> {
  const client = typeof redis === "string" ? new Redis(redis) : redis instanceof Redis || redis instanceof Cluster ? redis : new Cluster(redis.cluster);
  try {
    const keys = [...(await scanKeys(client, prefix)), ...(await scanKeys(client, `{${prefix}`))];
    // One DEL per key on a cluster: keys in different slots cannot share one.
    if (client instanceof Cluster) await Promise.all(keys.map((key) => client.del(key)));
    else for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  } finally {
    if (client !== redis) await client.quit();
  }
}
