import type { AtomicScript, Clock, KeyValueStore, LocalCommands } from "../../core/ports";
import { systemClock } from "../../core/ports";
import { fixedWindowHit, toTtlMs } from "./fixed-window.script";
import { assertOneSlot } from "./one-slot";

interface Entry {
  value: string | Map<string, string>;
  /** Epoch ms; null keeps the key until it is deleted, like a Redis key without TTL. */
  expiresAt: number | null;
}

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_AN_INTEGER = "ERR value is not an integer or out of range";

/**
 * The Redis commands script twins use, run synchronously over a Map. Every read drops
 * an expired key first, so expiry is exact whatever the sweep interval.
 */
export class MemoryKeyspace implements LocalCommands {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock = systemClock) {}

  get(key: string): string | null {
    const entry = this.live(key);
    if (!entry) return null;
    if (typeof entry.value !== "string") throw new Error(WRONGTYPE);
    return entry.value;
  }

  set(key: string, value: string, px?: number): void {
    // Redis refuses these, so a twin passing one must fail here too, not only in production.
    if (px !== undefined && !(Number.isInteger(px) && px > 0)) throw new Error("ERR invalid expire time in 'set' command");
    // Like SET: a new value replaces the TTL too.
    this.entries.set(key, { value, expiresAt: px === undefined ? null : this.now() + px });
  }

  del(key: string): number {
    return this.live(key) && this.entries.delete(key) ? 1 : 0;
  }

  exists(key: string): boolean {
    return this.live(key) !== undefined;
  }

  incrby(key: string, by: number): number {
    if (!Number.isInteger(by)) throw new Error(NOT_AN_INTEGER);
    const entry = this.live(key);
    const current = entry ? this.get(key) : "0";
    const next = toInteger(current) + by;
    if (entry) entry.value = String(next);
    else this.entries.set(key, { value: String(next), expiresAt: null });
    return next;
  }

  pexpire(key: string, ms: number): boolean {
    if (!Number.isInteger(ms)) throw new Error(NOT_AN_INTEGER);
    const entry = this.live(key);
    if (!entry) return false;
    // Redis deletes a key whose new TTL is already over.
    if (ms <= 0) this.entries.delete(key);
    else entry.expiresAt = this.now() + ms;
    return true;
  }

  pttl(key: string): number {
    const entry = this.live(key);
    if (!entry) return -2;
    if (entry.expiresAt === null) return -1;
    return entry.expiresAt - this.now();
  }

  hget(key: string, field: string): string | null {
    return this.hash(key)?.get(field) ?? null;
  }

  hset(key: string, field: string, value: string): void {
    this.hash(key, true).set(field, value);
  }

  hdel(key: string, field: string): number {
    const hash = this.hash(key);
    if (!hash?.delete(field)) return 0;
    // The key keeps its TTL; like Redis, no key holds an empty hash.
    if (hash.size === 0) this.entries.delete(key);
    return 1;
  }

  hincrby(key: string, field: string, by: number): number {
    if (!Number.isInteger(by)) throw new Error(NOT_AN_INTEGER);
    const hash = this.hash(key, true);
    const next = toInteger(hash.get(field) ?? "0") + by;
    hash.set(field, String(next));
    return next;
  }

  hgetall(key: string): Record<string, string> {
    return Object.fromEntries(this.hash(key) ?? []);
  }

  /** Drops every expired key; returns how many. */
  sweepExpired(): number {
    const now = this.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Keys held, expired or not (for tests of the sweep). */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private hash(key: string): Map<string, string> | undefined;
  private hash(key: string, create: true): Map<string, string>;
  private hash(key: string, create = false): Map<string, string> | undefined {
    const entry = this.live(key);
    if (entry) {
      if (typeof entry.value === "string") throw new Error(WRONGTYPE);
      return entry.value;
    }
    if (!create) return undefined;
    const value = new Map<string, string>();
    this.entries.set(key, { value, expiresAt: null });
    return value;
  }
}

export interface MemoryStoreOptions {
  /** Injected so tests can move time instead of sleeping. */
  clock?: Clock;
  /** How often expired keys are dropped even if nobody reads them again. */
  sweepIntervalMs?: number;
}

/**
 * `KeyValueStore` inside this process, for a single gateway instance. Scripts run their
 * `local` twin synchronously: JavaScript does not interleave them, so they are atomic.
 */
export class MemoryStore implements KeyValueStore {
  readonly kind = "memory" as const;
  readonly keyspace: MemoryKeyspace;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    this.keyspace = new MemoryKeyspace(options.clock ?? systemClock);
    this.sweeper = setInterval(() => this.keyspace.sweepExpired(), options.sweepIntervalMs ?? 30_000);
    // The sweep is housekeeping; it must not keep the process alive.
    this.sweeper.unref();
  }

  async get(key: string): Promise<string | null> {
    return this.keyspace.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.keyspace.set(key, value, toTtlMs(ttlMs));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const px = toTtlMs(ttlMs);
    if (this.keyspace.exists(key)) return false;
    this.keyspace.set(key, value, px);
    return true;
  }

  async del(...keys: string[]): Promise<number> {
    return keys.reduce((n, key) => n + this.keyspace.del(key), 0);
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    return this.run(fixedWindowHit, [key], [toTtlMs(windowMs, "windowMs")]);
  }

  async run<T>(script: AtomicScript<T>, keys: string[], args: Array<string | number>): Promise<T> {
    assertOneSlot(script.name, keys);
    // ARGV are strings in Redis; the twin sees the same.
    const reply = script.local(this.keyspace, keys, args.map(String));
    return script.parse(toRedisReply(reply, script.name));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.keyspace.clear();
  }
}

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}

function toInteger(value: string | null): number {
  const n = Number(value);
  if (value === null || !Number.isSafeInteger(n) || !/^-?\d+$/.test(value)) throw new Error(NOT_AN_INTEGER);
  return n;
}

/**
 * Converts a twin's return value the way Redis converts a Lua value, so a twin that
 * returns something its Lua could not (3.5, false, an object) behaves as on Redis or
 * fails here rather than in production: numbers truncate to integers, false and
 * null become null, true becomes 1, and an array ends at its first null (Lua nil).
 */
export function toRedisReply(value: unknown, scriptName = "script"): unknown {
  if (value === null || value === undefined || value === false) return null;
  if (value === true) return 1;
  // `|| 0` because Redis has no -0.
  if (typeof value === "number") return Math.trunc(value) || 0;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    const end = value.findIndex((item) => item === null || item === undefined);
    return (end === -1 ? value : value.slice(0, end)).map((item) => toRedisReply(item, scriptName));
  }
  throw new TypeError(`${scriptName}: a script twin must return integers, strings, booleans, null or arrays`);
}
