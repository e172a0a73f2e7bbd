import type { AtomicScript } from "../../core/ports";

/**
 * `KeyValueStore.hit` as one script, so Redis and the in-process store share its rules:
 * INCR, then give the counter its TTL only when it has none (it was just created, or
 * something left it without one), and report what is left of the window.
 */
export const fixedWindowHit: AtomicScript<{ count: number; resetInMs: number }> = {
  name: "fixed-window-hit",
  lua: `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`,
  local(redis, keys, args) {
    const [key] = keys;
    const windowMs = Number(args[0]);
    const count = redis.incrby(key, 1);
    let ttl = redis.pttl(key);
    if (ttl < 0) {
      redis.pexpire(key, windowMs);
      ttl = windowMs;
    }
    return [count, ttl];
  },
  parse(reply) {
    const [count, resetInMs] = reply as [number, number];
    return { count, resetInMs };
  },
};

/** Redis rejects a zero, negative or fractional PX; fail here with a clearer message. */
export function toTtlMs(ttlMs: number, what = "ttlMs"): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`${what} must be a positive number of milliseconds, got ${ttlMs}`);
  }
  return Math.ceil(ttlMs);
}
