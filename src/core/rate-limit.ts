import { createHash } from "node:crypto";
import { rateLimited } from "./errors";
import { noMetrics, type AtomicScript, type KeyValueStore, type Metrics } from "./ports";

/** Reads a window counter without counting: [count, ms left] (0, 0 when absent). */
const peekWindow: AtomicScript<{ count: number; resetInMs: number }> = {
  name: "peek-window",
  lua: `
local count = tonumber(redis.call("GET", KEYS[1]) or "0")
local ttl = redis.call("PTTL", KEYS[1])
if ttl < 0 then ttl = 0 end
return { count, ttl }`,
  local(redis, keys) {
    const ttl = redis.pttl(keys[0]);
    return [Number(redis.get(keys[0]) ?? "0"), ttl < 0 ? 0 : ttl];
  },
  parse(reply) {
    const [count, resetInMs] = reply as [number, number];
    return { count, resetInMs };
  },
};

/** A stable, non-reversible stand-in for an address, IP or number block inside a store key. */
export const keyPart = (s: string): string => createHash("sha256").update(s).digest("base64url").slice(0, 22);

export interface Limit {
  /** Events allowed per window. */
  max: number;
  windowSeconds: number;
}

/**
 * Fixed-window limits over the shared store. Each event is counted before the work it
 * guards (count first, then act), so concurrent calls and GraphQL aliases cannot slip
 * past the limit between a check and an increment.
 */
export class RateLimiter {
  constructor(
    private readonly store: KeyValueStore,
    /** Counts refusals by limit name (a constant of the caller, never the subject). */
    private readonly metrics: Metrics = noMetrics,
  ) {}

  /** Counts one event for `subject`; RATE_LIMITED with retryAfter once over the limit. */
  async consume(name: string, subject: string, limit: Limit): Promise<void> {
    const { count, resetInMs } = await this.store.hit(this.key(name, subject), limit.windowSeconds * 1000);
    if (count > limit.max) this.refuse(name, resetInMs);
  }

  /**
   * Refuses while `subject` is at or over the limit, without counting this call: for locks
   * that only failures feed (count those with `consume`).
   */
  async assertUnder(name: string, subject: string, limit: Limit): Promise<void> {
    const { count, resetInMs } = await this.store.run(peekWindow, [this.key(name, subject)], []);
    if (count >= limit.max) this.refuse(name, resetInMs);
  }

  /** Counts one event without refusing it (e.g. a failure that `assertUnder` checks later). */
  async record(name: string, subject: string, windowSeconds: number): Promise<void> {
    await this.store.hit(this.key(name, subject), windowSeconds * 1000);
  }

  /** Forgets the count, e.g. failed logins after a successful one. */
  async reset(name: string, subject: string): Promise<void> {
    await this.store.del(this.key(name, subject));
  }

  private refuse(name: string, resetInMs: number): never {
    this.metrics.rateLimited(name);
    throw rateLimited(resetInMs);
  }

  // Subjects are emails, phones and IPs: keep them out of the store's keys.
  private key(name: string, subject: string): string {
    return `limit:${name}:${keyPart(subject)}`;
  }
}

