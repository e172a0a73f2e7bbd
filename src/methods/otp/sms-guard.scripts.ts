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
 * KEYS: [pause, breaker window hash {sent, verified, epoch}, budget day counter, prefix
 *        window counter, the source block's breaker hash {sent, verified, epoch}].
 * ARGV: [now ms, pause-until ms, pause TTL ms, minSamples, unverifiedRatio, breaker TTL ms,
 *        budget max, budget TTL ms, velocity max, velocity TTL ms, max samples per source].
 * Checks in order: a pause still running (PAUSED, until); the breaker condition over the
 * window's counts (opens the pause, zeroes the window's counts and starts a new epoch, so
 * every source block samples afresh: BREAKER, reported by this one call only); the
 * country's day budget (BUDGET); the prefix velocity (VELOCITY). When all pass: counts the
 * send in the budget and the velocity, in the source block's hash, and in the country's
 * samples while that block has added fewer than its maximum; replies OK. Refusals count nothing.
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
  redis.call('HSET', KEYS[2], 'sent', 0, 'verified', 0)
  redis.call('HINCRBY', KEYS[2], 'epoch', 1)
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  return {'BREAKER'}
end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[7]) then return {'BUDGET'} end
if tonumber(redis.call('GET', KEYS[4]) or '0') >= tonumber(ARGV[9]) then return {'VELOCITY'} end
local epoch = redis.call('HGET', KEYS[2], 'epoch') or '0'
if redis.call('HGET', KEYS[5], 'epoch') ~= epoch then
  redis.call('DEL', KEYS[5])
  redis.call('HSET', KEYS[5], 'epoch', epoch)
end
if redis.call('HINCRBY', KEYS[5], 'sent', 1) <= tonumber(ARGV[11]) then redis.call('HINCRBY', KEYS[2], 'sent', 1) end
redis.call('PEXPIRE', KEYS[5], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[8])
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[10])
return {'OK'}
`,
  local(redis, [pauseKey, breakerKey, budgetKey, velocityKey, sourceKey], args) {
    const [now, pausedUntil, pauseTtl, minSamples, ratio, breakerTtl, budgetMax, budgetTtl, velocityMax, velocityTtl, perSource] = args.map(Number);
    const paused = redis.get(pauseKey);
    if (paused !== null && Number(paused) > now) return ["PAUSED", paused];
    const sent = Number(redis.hget(breakerKey, "sent") ?? "0");
    const verified = Math.min(sent, Number(redis.hget(breakerKey, "verified") ?? "0"));
    if (sent >= minSamples && 1 - verified / sent >= ratio) {
      redis.set(pauseKey, String(pausedUntil), pauseTtl);
      redis.hset(breakerKey, "sent", "0");
      redis.hset(breakerKey, "verified", "0");
      redis.hincrby(breakerKey, "epoch", 1);
      redis.pexpire(breakerKey, breakerTtl);
      return ["BREAKER"];
    }
    if (Number(redis.get(budgetKey) ?? "0") >= budgetMax) return ["BUDGET"];
    if (Number(redis.get(velocityKey) ?? "0") >= velocityMax) return ["VELOCITY"];
    const epoch = redis.hget(breakerKey, "epoch") ?? "0";
    if (redis.hget(sourceKey, "epoch") !== epoch) {
      redis.del(sourceKey);
      redis.hset(sourceKey, "epoch", epoch);
    }
    if (redis.hincrby(sourceKey, "sent", 1) <= perSource) redis.hincrby(breakerKey, "sent", 1);
    redis.pexpire(sourceKey, breakerTtl);
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
 * Counts one verified code in the breaker's window, for the source block that asked for
 * it, and in the country's count only while that block has verified fewer codes than it
 * added samples (at most the per-source maximum) in the current epoch: a block can offset
 * its own samples, not other blocks'. KEYS: [breaker window hash, source block hash].
 * ARGV: [breaker TTL ms, max samples per source]. Replies 1 when the country's count grew, else 0.
 */
export const countVerifiedSms: AtomicScript<number> = {
  name: "sms-guard-count-verified",
  lua: `
if redis.call('HGET', KEYS[2], 'epoch') ~= (redis.call('HGET', KEYS[1], 'epoch') or '0') then return 0 end
local counted = math.min(tonumber(redis.call('HGET', KEYS[2], 'sent') or '0'), tonumber(ARGV[2]))
if tonumber(redis.call('HGET', KEYS[2], 'verified') or '0') >= counted then return 0 end
redis.call('HINCRBY', KEYS[2], 'verified', 1)
redis.call('HINCRBY', KEYS[1], 'verified', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`,
  local(redis, [breakerKey, sourceKey], [ttlMs, perSource]) {
    if (redis.hget(sourceKey, "epoch") !== (redis.hget(breakerKey, "epoch") ?? "0")) return 0;
    const counted = Math.min(Number(redis.hget(sourceKey, "sent") ?? "0"), Number(perSource));
    if (Number(redis.hget(sourceKey, "verified") ?? "0") >= counted) return 0;
    redis.hincrby(sourceKey, "verified", 1);
    redis.hincrby(breakerKey, "verified", 1);
    redis.pexpire(breakerKey, Number(ttlMs));
    return 1;
  },
  parse: (reply) => Number(reply),
};
