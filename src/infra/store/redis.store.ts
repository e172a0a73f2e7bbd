import { createHash } from "node:crypto";
import { withinDeadline } from "../../core/deadline";
import type { AtomicScript, KeyValueStore } from "../../core/ports";
import { fixedWindowHit, toTtlMs } from "./fixed-window.script";
import { assertOneSlot } from "./one-slot";
import { assertClusterOk, closeRedis, connectRedis, isCluster, requestTimeouts, type RedisClient, type RedisTarget } from "./redis-connection";

export interface RedisStoreOptions {
  /**
   * `redis://` or `rediss://` (TLS), with optional user, password and `/db`; or a Redis
   * Cluster's nodes. On a cluster a script's KEYS must share a slot (one hash tag).
   */
  url: RedisTarget;
  /** Prepended to every key, script KEYS included (ioredis does it for EVAL/EVALSHA). */
  keyPrefix?: string;
  /** How long `ping()` waits before calling the store unready. */
  pingTimeoutMs?: number;
  /** Any command fails after this long (REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs?: number;
  /** Connection errors; ioredis keeps reconnecting after each one. */
  onError?: (error: Error) => void;
}

/** `KeyValueStore` over Redis: shared by every gateway instance. */
export class RedisStore implements KeyValueStore {
  readonly kind = "redis" as const;
  private readonly redis: RedisClient;
  private readonly cluster: boolean;
  private readonly pingTimeoutMs: number;
  /** SHA1 of each script body, computed here so no SCRIPT LOAD round trip is needed. */
  private readonly shas = new Map<string, string>();
  private closing?: Promise<void>;

  constructor(options: RedisStoreOptions) {
    // Auto-pipelining: commands issued in one tick go out in one write (fewer, larger socket writes).
    this.redis = connectRedis(options.url, { keyPrefix: options.keyPrefix, enableAutoPipelining: true, ...requestTimeouts(options.commandTimeoutMs) }, options.onError);
    this.cluster = isCluster(options.url);
    this.pingTimeoutMs = options.pingTimeoutMs ?? 2_000;
  }

  async get(key: string): Promise<string | null> {
    return this.redis.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(key, value, "PX", toTtlMs(ttlMs));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(key, value, "PX", toTtlMs(ttlMs), "NX")) === "OK";
  }

  async del(...keys: string[]): Promise<number> {
    // DEL with no keys is a Redis syntax error.
    if (keys.length === 0) return 0;
    if (!this.cluster) return this.redis.del(...keys);
    // One DEL per key: keys in different slots in one DEL fail with CROSSSLOT.
    const counts = await Promise.all(keys.map((key) => this.redis.del(key)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    return this.run(fixedWindowHit, [key], [toTtlMs(windowMs, "windowMs")]);
  }

  async run<T>(script: AtomicScript<T>, keys: string[], args: Array<string | number>): Promise<T> {
    // On a single Redis too: the same script must run on a cluster.
    assertOneSlot(script.name, keys);
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(this.shaOf(script.lua), keys.length, ...keys, ...args);
    } catch (error) {
      // The script cache is empty after a restart, failover or SCRIPT FLUSH; EVAL refills it.
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      reply = await this.redis.eval(script.lua, keys.length, ...keys, ...args);
    }
    return script.parse(reply);
  }

  async ping(): Promise<void> {
    // While Redis is down ioredis queues commands; readiness must answer now.
    // A cluster answers PING while some slots have no master: ask for its state too.
    await withinDeadline(this.pingTimeoutMs, () => this.redis.ping().then(() => assertClusterOk(this.redis))).catch((e: unknown) => {
      throw e instanceof DOMException && e.name === "TimeoutError" ? new Error(`Redis did not answer PING in ${this.pingTimeoutMs} ms`) : e;
    });
  }

  close(): Promise<void> {
    // A second QUIT on a closing connection fails and trips ioredis' fallback timer.
    this.closing ??= closeRedis(this.redis);
    return this.closing;
  }

  private shaOf(lua: string): string {
    let sha = this.shas.get(lua);
    if (sha === undefined) {
      sha = createHash("sha1").update(lua).digest("hex");
      this.shas.set(lua, sha);
    }
    return sha;
  }
}

export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}
