import type { AtomicScript } from "../../core/ports";

/**
 * The SMS pumping guard as atomic scripts, each written twice (Lua for Redis, a
 * JavaScript twin for the in-process store). Key names come in as KEYS and every time
 * and TTL as ARGV, computed by `sms-guard.ts` from its clock: the scripts only compare
 * and count, so a test can move the clock on Redis too.
 */

/** Why `admitSms` refused, or OK; PAUSED carries the epoch ms the pause ends. */
export type AdmitSmsReply = ["OK"] | ["PAUSED", string] | ["BREAKER"] | ["BUDGET"] | ["VELOCITY"];

/**
 * Decides whether one more SMS may go out, and counts it when it may, in one step so
 * concurrent requests cannot beat a limit between the check and the count.
 * KEYS: [pause, breaker window hash {sent, verified}, budget day counter, prefix window counter].
 * ARGV: [now ms, pause-until ms, pause TTL ms, minSamples, unverifiedRatio, breaker TTL ms,
 *        budget max, budget TTL ms, velocity max, velocity TTL ms].
 * Checks in order: a pause still running (PAUSED, until); the breaker condition over the
 * window's counts (opens the pause and clears the window: BREAKER, reported by this one
 * call only); the country's day budget (BUDGET); the prefix velocity (VELOCITY). When
 * all pass: counts the send in all three and replies OK. Refusals count nothing.
 */
export const admitSms: AtomicScript<AdmitSmsReply> = {
  name: "sms-guard-admit",
  lua: `
local now = tonumber(ARGV[1])
local paused = redis.call('GET', KEYS[1])
if paused and tonumber(paused) > now then return {'PAUSED', paused} end
local sent = tonumber(redis.call('HGET', KEYS[2], 'sent') or '0')
local verified = math.min(sent, tonumber(redis.call('HGET', KEYS[2], 'verified') or '0'))
if sent >= tonumber(ARGV[4]) and 1 - verified / sent >= tonumber(ARGV[5]) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return {'BREAKER'}
end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[7]) then return {'BUDGET'} end
if tonumber(redis.call('GET', KEYS[4]) or '0') >= tonumber(ARGV[9]) then return {'VELOCITY'} end
redis.call('HINCRBY', KEYS[2], 'sent', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[8])
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[10])
return {'OK'}
`,
  local(redis, [pauseKey, breakerKey, budgetKey, velocityKey], args) {
    const [now, pausedUntil, pauseTtl, minSamples, ratio, breakerTtl, budgetMax, budgetTtl, velocityMax, velocityTtl] = args.map(Number);
    const paused = redis.get(pauseKey);
    if (paused !== null && Number(paused) > now) return ["PAUSED", paused];
    const sent = Number(redis.hget(breakerKey, "sent") ?? "0");
    const verified = Math.min(sent, Number(redis.hget(breakerKey, "verified") ?? "0"));
    if (sent >= minSamples && 1 - verified / sent >= ratio) {
      redis.set(pauseKey, String(pausedUntil), pauseTtl);
      redis.del(breakerKey);
      return ["BREAKER"];
    }
    if (Number(redis.get(budgetKey) ?? "0") >= budgetMax) return ["BUDGET"];
    if (Number(redis.get(velocityKey) ?? "0") >= velocityMax) return ["VELOCITY"];
    redis.hincrby(breakerKey, "sent", 1);
    redis.pexpire(breakerKey, breakerTtl);
    redis.incrby(budgetKey, 1);
    redis.pexpire(budgetKey, budgetTtl);
    redis.incrby(velocityKey, 1);
    redis.pexpire(velocityKey, velocityTtl);
    return ["OK"];
  },
  parse(reply) {
    const status = Array.isArray(reply) ? reply[0] : undefined;
    const valid =
      status === "OK" || status === "BREAKER" || status === "BUDGET" || status === "VELOCITY" || (status === "PAUSED" && typeof (reply as unknown[])[1] === "string");
    if (!valid) throw new Error(`sms-guard-admit: unexpected reply ${JSON.stringify(reply)}`);
    return reply as AdmitSmsReply;
  },
};

/**
 * Counts one verified code in the breaker's window. KEYS: [breaker window hash].
 * ARGV: [breaker TTL ms]. Replies the window's verified count.
 */
export const countVerifiedSms: AtomicScript<number> = {
  name: "sms-guard-count-verified",
  lua: `
local verified = redis.call('HINCRBY', KEYS[1], 'verified', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return verified
`,
  local(redis, [breakerKey], [ttlMs]) {
    const verified = redis.hincrby(breakerKey, "verified", 1);
    redis.pexpire(breakerKey, Number(ttlMs));
    return verified;
  },
  parse: (reply) => Number(reply),
};
