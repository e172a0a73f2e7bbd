import { Redis, type RedisOptions } from "ioredis";

/** REDIS_COMMAND_TIMEOUT_MS's default. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * Bounds for a connection used by requests: a command fails after `ms` whether it was
 * sent and never answered (a partition) or still waits for a connection (Redis down),
 * instead of ioredis' unbounded wait or ~10 s of reconnect retries.
 */
export function requestTimeouts(ms: number = DEFAULT_REDIS_COMMAND_TIMEOUT_MS): RedisOptions {
  return { commandTimeout: ms, connectTimeout: ms };
}

/** Opens an ioredis connection; ioredis turns on TLS by itself for `rediss://`. */
export function connectRedis(url: string, options: RedisOptions = {}, onError?: (error: Error) => void): Redis {
  if (!/^rediss?:\/\//i.test(url)) {
    throw new Error(`Redis URL must start with redis:// or rediss://, got "${url.split(":")[0]}:"`);
  }
  const redis = new Redis(url, options);
  if (onError) redis.on("error", onError);
  return redis;
}

/** One connection and a PING, no reconnecting: throws why not (refused, timed out, WRONGPASS). */
export async function probeRedis(url: string, timeoutMs: number = DEFAULT_REDIS_COMMAND_TIMEOUT_MS): Promise<void> {
  const options: RedisOptions = { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, ...requestTimeouts(timeoutMs) };
  // ioredis rejects with "Connection is closed."; the 'error' event says why (ECONNREFUSED, WRONGPASS).
  let cause: Error | undefined;
  const redis = connectRedis(url, options, (error) => (cause ??= error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw cause ?? error;
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
export async function closeRedis(redis: Redis): Promise<void> {
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
