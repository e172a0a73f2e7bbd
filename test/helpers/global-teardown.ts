import { rm } from "node:fs/promises";
import { THROWAWAY_CLUSTER, THROWAWAY_REDIS, type ThrowawayRedis } from "./global-setup";
import { stopLocalRedisCluster, type LocalRedisCluster } from "./redis-cluster";

/** Stops the redis-server and the Redis Cluster global-setup started, if it started them. */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as typeof globalThis & { [THROWAWAY_REDIS]?: ThrowawayRedis; [THROWAWAY_CLUSTER]?: LocalRedisCluster };
  const cluster = holder[THROWAWAY_CLUSTER];
  if (cluster) {
    delete holder[THROWAWAY_CLUSTER];
    delete process.env.TEST_REDIS_CLUSTER_NODES;
    await stopLocalRedisCluster(cluster);
  }
  const redis = holder[THROWAWAY_REDIS];
  if (!redis) return;
  delete holder[THROWAWAY_REDIS];
  delete process.env.REDIS_URL;

  const { child, dir } = redis;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    // SIGTERM makes redis-server shut down cleanly; do not wait forever if it hangs.
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}
