import { safeEqual } from "../../core/text";
import type { AtomicScript } from "../../core/ports";

/**
 * The one-time-code challenge as atomic scripts, each written twice (Lua for Redis, a
 * JavaScript twin for the in-process store). Key names always come in as KEYS, never
 * built here: the Redis store prefixes KEYS only. `otp-challenge.store.ts` owns the
 * hash's layout and the key names (one hash tag per script: one Redis Cluster slot);
 * these scripts only apply it.
 */

/** Prefix of the caller's extra fields in the hash, so they cannot overwrite ours. */
export const EXTRA_FIELD_PREFIX = "extra:";

/**
 * Replaces the challenge and points its destination at it, both with the same TTL.
 * KEYS: [challenge, destination pointer]. ARGV: [challengeId, ttlMs, field, value, ...].
 * Replies nothing (nil).
 */
export const createChallenge: AtomicScript<void> = {
  name: "otp-create-challenge",
  lua: `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
`,
  local(redis, [challengeKey, pointerKey], [challengeId, ttlMs, ...fields]) {
    redis.del(challengeKey);
    for (let i = 0; i < fields.length; i += 2) redis.hset(challengeKey, fields[i], fields[i + 1]);
    redis.pexpire(challengeKey, Number(ttlMs));
    redis.set(pointerKey, challengeId, Number(ttlMs));
  },
  parse() {},
};

/** The raw reply of `verifyChallenge`, as Redis shapes it. */
export type VerifyChallengeReply =
  | ["OK", string, string, string, string, string[]]
  | ["INVALID", number]
  | ["UNKNOWN"]
  | ["EXPIRED"]
  | ["SUPERSEDED"]
  | ["TOO_MANY_ATTEMPTS"];

/**
 * Checks a submitted code and consumes the challenge, in one step so concurrent guesses
 * can neither both succeed nor exceed the attempt limit.
 * KEYS: [challenge, destination pointer]. ARGV: [mac of the submitted code, challengeId, now ms].
 * Replies: {'UNKNOWN'}; {'EXPIRED'} and {'SUPERSEDED'} (challenge deleted);
 * {'TOO_MANY_ATTEMPTS'}; {'INVALID', attemptsRemaining} (the last failure drops the mac
 * but keeps the hash until its TTL, so later calls still answer TOO_MANY_ATTEMPTS);
 * {'OK', purpose, channel, destination, userId ('' for none), {extraField, value, ...}}
 * with extra fields sorted by name (challenge and pointer deleted).
 */
export const verifyChallenge: AtomicScript<VerifyChallengeReply> = {
  name: "otp-verify-challenge",
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'UNKNOWN'} end
local function field(name) return redis.call('HGET', KEYS[1], name) end
if tonumber(field('expiresAt')) <= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
  return {'EXPIRED'}
end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  redis.call('DEL', KEYS[1])
  return {'SUPERSEDED'}
end
local mac = field('mac')
local attempts = tonumber(field('attempts'))
local max = tonumber(field('max'))
if not mac or attempts >= max then return {'TOO_MANY_ATTEMPTS'} end
-- Constant time: visit every byte whatever differs, no early exit.
local submitted = ARGV[1]
local diff = 0
if #mac ~= #submitted then diff = 1 end
for i = 1, #mac do
  diff = bit.bor(diff, bit.bxor(string.byte(mac, i), string.byte(submitted, i) or 0))
end
if diff == 0 then
  local flat = redis.call('HGETALL', KEYS[1])
  local values, names = {}, {}
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, ${EXTRA_FIELD_PREFIX.length}) == '${EXTRA_FIELD_PREFIX}' then
      local name = string.sub(flat[i], ${EXTRA_FIELD_PREFIX.length + 1})
      names[#names + 1] = name
      values[name] = flat[i + 1]
    end
  end
  table.sort(names)
  local extra = {}
  for _, name in ipairs(names) do
    extra[#extra + 1] = name
    extra[#extra + 1] = values[name]
  end
  local reply = {'OK', field('purpose'), field('channel'), field('destination'), field('userId'), extra}
  redis.call('DEL', KEYS[1], KEYS[2])
  return reply
end
attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts >= max then redis.call('HDEL', KEYS[1], 'mac') end
return {'INVALID', max - attempts}
`,
  local(redis, [challengeKey, pointerKey], [submitted, challengeId, nowMs]) {
    if (!redis.exists(challengeKey)) return ["UNKNOWN"];
    const field = (name: string) => redis.hget(challengeKey, name);
    if (Number(field("expiresAt")) <= Number(nowMs)) {
      redis.del(challengeKey);
      if (redis.get(pointerKey) === challengeId) redis.del(pointerKey);
      return ["EXPIRED"];
    }
    if (redis.get(pointerKey) !== challengeId) {
      redis.del(challengeKey);
      return ["SUPERSEDED"];
    }
    const mac = field("mac");
    const max = Number(field("max"));
    if (mac === null || Number(field("attempts")) >= max) return ["TOO_MANY_ATTEMPTS"];
    if (safeEqual(mac, submitted)) {
      const hash = redis.hgetall(challengeKey);
      const extra = Object.keys(hash)
        .filter((name) => name.startsWith(EXTRA_FIELD_PREFIX))
        .map((name) => name.slice(EXTRA_FIELD_PREFIX.length))
        .sort()
        .flatMap((name) => [name, hash[EXTRA_FIELD_PREFIX + name]]);
      redis.del(challengeKey);
      redis.del(pointerKey);
      return ["OK", hash.purpose, hash.channel, hash.destination, hash.userId, extra];
    }
    const attempts = redis.hincrby(challengeKey, "attempts", 1);
    if (attempts >= max) redis.hdel(challengeKey, "mac");
    return ["INVALID", max - attempts];
  },
  parse(reply) {
    const status = Array.isArray(reply) ? reply[0] : undefined;
    const known = ["OK", "INVALID", "UNKNOWN", "EXPIRED", "SUPERSEDED", "TOO_MANY_ATTEMPTS"];
    if (typeof status !== "string" || !known.includes(status)) {
      throw new Error(`otp-verify-challenge: unexpected reply ${JSON.stringify(reply)}`);
    }
    return reply as VerifyChallengeReply;
  },
};
