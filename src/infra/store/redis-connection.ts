import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

/** REDIS_COMMAND_TIMEOUT_MS's default. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * A Redis Cluster to connect to (REDIS_CLUSTER_NODES): a few of its nodes to learn the
 * others from, and what every node needs (TLS, credentials), since the nodes it
 * discovers come with an address only.
 */
export interface RedisClusterTarget {
  cluster: Array<{ host: string; port: number }>;
  tls?: boolean;
  username?: string;
  password?: string;
}

/** One Redis (a `redis://` or `rediss://` URL) or a Redis Cluster. */
export type RedisTarget = string | RedisClusterTarget;

/** Either kind of connection; both run the same commands (a cluster routes each by its key's slot). */
export type RedisClient = Redis | Cluster;

export const isCluster = (target: RedisTarget): target is RedisClusterTarget => typeof target !== "string";

/**
 * Bounds for a connection used by requests: a command fails after `ms` whether it was
 * sent and never answered (a partition) or still waits for a connection (Redis down),
 * instead of ioredis' unbounded wait or ~10 s of reconnect retries.
 */
export function requestTimeouts(ms: number = DEFAULT_REDIS_COMMAND_TIMEOUT_MS): RedisOptions {
  return { commandTimeout: ms, connectTimeout: ms };
}

/**
 * Opens an ioredis connection; ioredis turns on TLS by itself for `rediss://`. A cluster
 * gets the same options on every node connection (ioredis `Cluster` with `redisOptions`);
 * reads stay on the masters (scaleReads "master", ioredis' default), so a read never
 * sees a replica that is behind the write before it.
 */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}, onError?: (error: Error) => void): RedisClient {
  const redis = isCluster(target) ? connectCluster(target, options) : connectSingle(target, options);
  if (onError) redis.on("error", onError);
  return redis;
}

function connectSingle(url: string, options: RedisOptions): Redis {
  if (!/^rediss?:\/\//i.test(url)) {
    throw new Error(`Redis URL must start with redis:// or rediss://, got "${url.split(":")[0]}:"`);
  }
  return new Redis(url, options);
}

function connectCluster(target: RedisClusterTarget, options: RedisOptions): Cluster {
  if (target.cluster.length === 0) throw new Error("a Redis Cluster needs at least one node");
  // These are the cluster's own options, not each node's (ioredis refuses them in redisOptions).
  const { keyPrefix, enableOfflineQueue, enableReadyCheck, lazyConnect, retryStrategy, ...node } = options;
  const clusterOptions: ClusterOptions = {
    keyPrefix,
    enableOfflineQueue,
    enableReadyCheck,
    lazyConnect,
    scaleReads: "master",
    ...(retryStrategy !== undefined && { clusterRetryStrategy: retryStrategy }),
    // The first slot map must come within the connect timeout too.
    ...(node.connectTimeout !== undefined && { slotsRefreshTimeout: node.connectTimeout }),
    redisOptions: {
      ...node,
      ...(target.username !== undefined && { username: target.username }),
      ...(target.password !== undefined && { password: target.password }),
      ...(target.tls && { tls: {} }),
    },
  };
  const cluster = new Cluster(
    target.cluster.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  );
  if (node.commandTimeout !== undefined) boundClusterQueue(cluster, node.commandTimeout);
  return cluster;
}

/**
 * A node connection times its commands (commandTimeout), but a command the cluster holds in
 * its own offline queue (no node known yet, or every node down) has no node and would wait
 * without bound. Its timer starts when the cluster takes it; a node's later timer is
 * the same timer (ioredis keeps the first).
 */
function boundClusterQueue(cluster: Cluster, ms: number): void {
  type Send = (command: { setTimeout(ms: number): void }, ...rest: unknown[]) => unknown;
  const send = (cluster.sendCommand as unknown as Send).bind(cluster);
  (cluster as unknown as { sendCommand: Send }).sendCommand = (command, ...rest) => {
    command.setTimeout(ms);
    return send(command, ...rest);
  };
}

/** Where a target points, without credentials, for log lines. */
export function describeRedisTarget(target: RedisTarget, redactUrl: (url: string) => string): string {
  if (!isCluster(target)) return redactUrl(target);
  return `${target.tls ? "rediss" : "redis"}://${target.cluster.map(({ host, port }) => `${host}:${port}`).join(",")}`;
}

/**
 * Throws unless a cluster serves every slot: `cluster_state:ok` from the node asked (each
 * node reports the whole cluster's state). A single Redis has nothing to check.
 */
export async function assertClusterOk(redis: RedisClient): Promise<void> {
  if (!(redis instanceof Cluster)) return;
  const state = await clusterState(redis);
  if (state !== "ok") throw new Error(`Redis Cluster state is ${state ?? "unknown"}, not ok`);
}

/**
 * One connection and a PING, no reconnecting: throws why not (refused, timed out,
 * WRONGPASS). A cluster is asked node by node as given, each as a plain connection, until
 * one answers; it must report `cluster_state:ok` (every slot served).
 */
export async function probeRedis(target: RedisTarget, timeoutMs: number = DEFAULT_REDIS_COMMAND_TIMEOUT_MS): Promise<void> {
  const options: RedisOptions = { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, ...requestTimeouts(timeoutMs) };
  if (!isCluster(target)) return probeOne(connectSingle(target, options));
  let unreachable: unknown;
  for (const { host, port } of target.cluster) {
    const { username, password, tls } = target;
    // The node's own state, not a cluster client's: one that fails its ready check reconnects forever.
    const node = new Redis({ ...options, host, port, username, password, ...(tls && { tls: {} }) });
    try {
      return await probeOne(node, async () => {
        const state = await clusterState(node);
        if (state !== "ok") throw new ClusterNotOkError(`${host}:${port} reports cluster_state:${state ?? "unknown"}, not ok (are all slots assigned?)`);
      });
    } catch (error) {
      if (error instanceof ClusterNotOkError) throw error;
      unreachable = error;
    }
  }
  throw unreachable;
}

class ClusterNotOkError extends Error {}

/** The `cluster_state` CLUSTER INFO reports ("ok", "fail"), as the node asked sees the whole cluster. */
const clusterState = async (redis: RedisClient): Promise<string | undefined> => /^cluster_state:(\w+)/m.exec(String(await redis.cluster("INFO")))?.[1];

async function probeOne(redis: Redis, check?: () => Promise<void>): Promise<void> {
  // ioredis rejects with "Connection is closed."; the 'error' event says why (ECONNREFUSED, WRONGPASS).
  let cause: Error | undefined;
  redis.on("error", (error) => (cause ??= error));
  try {
    await redis.connect();
    await redis.ping();
    await check?.();
  } catch (error) {
    throw error instanceof ClusterNotOkError ? error : (cause ?? error);
  } finally {
    redis.disconnect();
  }
}

/** How long closing waits for a connection still in its handshake. */
const HANDSHAKE_WAIT_MS = 1_000;

/**
 * QUIT when connected, so replies already on their way arrive. Otherwise stop at once:
 * QUIT would sit in the offline queue through every reconnect attempt. A connection
 * still in its handshake gets a moment to finish first, because disconnecting it then
 * leaves ioredis holding the process open on a 2 s timer (AbstractConnector).
 */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === "connecting" || redis.status === "connect") {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        redis.off("ready", done).off("close", done);
        resolve();
      };
      const timer = setTimeout(done, HANDSHAKE_WAIT_MS);
      redis.once("ready", done).once("close", done);
    });
  }
  if (redis.status === "ready") await redis.quit().catch(() => redis.disconnect());
  else if (redis.status !== "end") redis.disconnect();
}
