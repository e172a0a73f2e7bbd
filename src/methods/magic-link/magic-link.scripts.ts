import { safeEqual } from "../../core/text";
import type { AtomicScript, LocalCommands } from "../../core/ports";

/**
 * The magic-link request as atomic scripts, each written twice (Lua for Redis, a
 * JavaScript twin for the in-process store). Key names always come in as KEYS, never
 * built here: the Redis store prefixes KEYS only. `magic-link.store.ts` owns the hash's
 * layout and the key names (one hash tag per script: one Redis Cluster slot); these
 * scripts only apply it.
 */

/** The request fields every reply carries, in this order (HMGET). */
export const SNAPSHOT_FIELDS = ["email", "state", "createdAt", "expiresAt", "redirectUrl", "userAgent", "ip", "clientState"] as const;

/** Fields added after release: requests stored by an older instance (a rolling deploy) lack them. */
const LATER_FIELDS: ReadonlySet<string> = new Set(["clientState"]);

/** The request fields as a script hands them back, in `SNAPSHOT_FIELDS` order. */
export type RequestSnapshot = string[];

const luaList = (names: readonly string[]): string => names.map((name) => `'${name}'`).join(", ");

/** Lua: the snapshot of KEYS[1]. */
const LUA_SNAPSHOT = `redis.call('HMGET', KEYS[1], ${luaList(SNAPSHOT_FIELDS)})`;

/** The twin of `LUA_SNAPSHOT`: a missing field is Lua false, so it cannot end the array early. */
function snapshot(redis: LocalCommands, requestKey: string): Array<string | false> {
  return SNAPSHOT_FIELDS.map((name) => redis.hget(requestKey, name) ?? false);
}

/**
 * Replaces the request and points its email at it (the store indexes its token and id
 * beside, in other slots). KEYS: [request, email pointer].
 * ARGV: [requestId, link ttl ms, kept ms (ttl + grace), field, value, ...].
 * The request is kept for the grace period too, so a late click answers EXPIRED or USED
 * rather than UNKNOWN; the pointer lives exactly as long as the link.
 * Replies nothing (nil).
 */
export const createLinkRequest: AtomicScript<void> = {
  name: "magic-link-create",
  lua: `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
`,
  local(redis, [requestKey, pointerKey], [requestId, ttlMs, keptMs, ...fields]) {
    redis.del(requestKey);
    for (let i = 0; i < fields.length; i += 2) redis.hset(requestKey, fields[i], fields[i + 1]);
    redis.pexpire(requestKey, Number(keptMs));
    redis.set(pointerKey, requestId, Number(ttlMs));
  },
  parse() {},
};

/**
 * The request as stored, for reads that change nothing: {listenHash, snapshot} or nil.
 * KEYS: [request].
 */
export const readLinkRequest: AtomicScript<{ listenHash: string; snapshot: RequestSnapshot } | null> = {
  name: "magic-link-read-request",
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
return {redis.call('HGET', KEYS[1], 'listenHash'), ${LUA_SNAPSHOT}}
`,
  local(redis, [requestKey]) {
    if (!redis.exists(requestKey)) return null;
    return [redis.hget(requestKey, "listenHash") ?? false, snapshot(redis, requestKey)];
  },
  parse(reply) {
    if (reply === null) return null;
    if (!Array.isArray(reply) || typeof reply[0] !== "string" || !isSnapshot(reply[1])) {
      throw new Error(`magic-link-read-request: unexpected reply ${JSON.stringify(reply)}`);
    }
    return { listenHash: reply[0], snapshot: reply[1] };
  },
};

/**
 * Lua shared by open, consume and deny: answers the misses, or falls through for a link
 * that may still act. KEYS: [request, email pointer]. ARGV: [tokenHash, requestId, now ms, ...].
 * EXPIRED when expiresAt has passed or the pointer has (it lives exactly as long as the
 * link), marking a live request EXPIRED; USED when superseded by a newer request for the
 * email, re-created under the same id with another token, or no longer PENDING/OPENED.
 */
const LUA_LINK_MISSES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'UNKNOWN'} end
local function field(name) return redis.call('HGET', KEYS[1], name) end
local state = field('state')
local live = state == 'PENDING' or state == 'OPENED'
local current = redis.call('GET', KEYS[2])
if tonumber(field('expiresAt')) <= tonumber(ARGV[3]) or not current then
  if live then redis.call('HSET', KEYS[1], 'state', 'EXPIRED') end
  return {'EXPIRED'}
end
if not live or current ~= ARGV[2] or field('tokenHash') ~= ARGV[1] then return {'USED'} end
`;

type Miss = ["UNKNOWN"] | ["EXPIRED"] | ["USED"];

/** The twin of `LUA_LINK_MISSES`: a miss to reply, or null for a link that may still act. */
function linkMiss(redis: LocalCommands, [requestKey, pointerKey]: string[], [tokenHash, requestId, nowMs]: string[]): Miss | null {
  if (!redis.exists(requestKey)) return ["UNKNOWN"];
  const state = redis.hget(requestKey, "state");
  const live = state === "PENDING" || state === "OPENED";
  const current = redis.get(pointerKey);
  if (Number(redis.hget(requestKey, "expiresAt")) <= Number(nowMs) || current === null) {
    if (live) redis.hset(requestKey, "state", "EXPIRED");
    return ["EXPIRED"];
  }
  if (!live || current !== requestId || redis.hget(requestKey, "tokenHash") !== tokenHash) return ["USED"];
  return null;
}

export type OpenLinkReply = ["OK", 0 | 1, RequestSnapshot] | Miss;

/**
 * The link's page was opened: PENDING becomes OPENED, OPENED stays.
 * KEYS: [request, email pointer]. ARGV: [tokenHash, requestId, now ms].
 * Replies a miss or {'OK', changed (1 when it was PENDING), snapshot}.
 */
export const openLink: AtomicScript<OpenLinkReply> = {
  name: "magic-link-open",
  lua: `${LUA_LINK_MISSES}
local changed = 0
if state == 'PENDING' then
  redis.call('HSET', KEYS[1], 'state', 'OPENED')
  changed = 1
end
return {'OK', changed, ${LUA_SNAPSHOT}}
`,
  local(redis, keys, args) {
    const miss = linkMiss(redis, keys, args);
    if (miss) return miss;
    const changed = redis.hget(keys[0], "state") === "PENDING";
    if (changed) redis.hset(keys[0], "state", "OPENED");
    return ["OK", changed ? 1 : 0, snapshot(redis, keys[0])];
  },
  parse: (reply) => parseReply<OpenLinkReply>("magic-link-open", reply, ["OK"]),
};

export type ConsumeLinkReply = ["OK", 0 | 1, RequestSnapshot] | ["WRONG_MATCH", number] | ["DENIED"] | Miss;

/**
 * Uses the link once. Without a match code ('0' in ARGV[4]) it signs in only the device
 * that opened it: CONSUMED. With one, compared in constant time: right is CONFIRMED
 * (the waiting device too); wrong counts an attempt, and the last allowed one is DENIED.
 * KEYS: [request, email pointer]. ARGV: [tokenHash, requestId, now ms, '1' | '0', matchCode].
 * Replies a miss, {'OK', matched (0|1), snapshot}, {'WRONG_MATCH', attemptsRemaining} or {'DENIED'}.
 */
export const consumeLink: AtomicScript<ConsumeLinkReply> = {
  name: "magic-link-consume",
  lua: `${LUA_LINK_MISSES}
if ARGV[4] == '0' then
  redis.call('HSET', KEYS[1], 'state', 'CONSUMED')
  return {'OK', 0, ${LUA_SNAPSHOT}}
end
-- Constant time: visit every byte whatever differs, no early exit.
local stored = field('matchCode')
local submitted = ARGV[5]
local diff = 0
if #stored ~= #submitted then diff = 1 end
for i = 1, #stored do
  diff = bit.bor(diff, bit.bxor(string.byte(stored, i), string.byte(submitted, i) or 0))
end
if diff == 0 then
  redis.call('HSET', KEYS[1], 'state', 'CONFIRMED')
  return {'OK', 1, ${LUA_SNAPSHOT}}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local max = tonumber(field('max'))
if attempts >= max then
  redis.call('HSET', KEYS[1], 'state', 'DENIED')
  return {'DENIED'}
end
return {'WRONG_MATCH', max - attempts}
`,
  local(redis, keys, args) {
    const miss = linkMiss(redis, keys, args);
    if (miss) return miss;
    const [requestKey] = keys;
    const [, , , withMatch, submitted] = args;
    if (withMatch === "0") {
      redis.hset(requestKey, "state", "CONSUMED");
      return ["OK", 0, snapshot(redis, requestKey)];
    }
    if (safeEqual(redis.hget(requestKey, "matchCode") ?? "", submitted)) {
      redis.hset(requestKey, "state", "CONFIRMED");
      return ["OK", 1, snapshot(redis, requestKey)];
    }
    const attempts = redis.hincrby(requestKey, "attempts", 1);
    const max = Number(redis.hget(requestKey, "max"));
    if (attempts >= max) {
      redis.hset(requestKey, "state", "DENIED");
      return ["DENIED"];
    }
    return ["WRONG_MATCH", max - attempts];
  },
  parse: (reply) => parseReply<ConsumeLinkReply>("magic-link-consume", reply, ["OK", "WRONG_MATCH", "DENIED"]),
};

export type DenyLinkReply = ["OK"] | Miss;

/**
 * "This wasn't me": a PENDING or OPENED request becomes DENIED.
 * KEYS: [request, email pointer]. ARGV: [tokenHash, requestId, now ms]. Replies a miss or {'OK'}.
 */
export const denyLink: AtomicScript<DenyLinkReply> = {
  name: "magic-link-deny",
  lua: `${LUA_LINK_MISSES}
redis.call('HSET', KEYS[1], 'state', 'DENIED')
return {'OK'}
`,
  local(redis, keys, args) {
    const miss = linkMiss(redis, keys, args);
    if (miss) return miss;
    redis.hset(keys[0], "state", "DENIED");
    return ["OK"];
  },
  parse: (reply) => parseReply<DenyLinkReply>("magic-link-deny", reply, ["OK"]),
};

/**
 * Keeps the sealed session for the waiting device in the request's hash, under the
 * hash's own TTL. Does nothing when the request is gone: a HSET there would create a
 * hash without TTL. KEYS: [request]. ARGV: [sealed]. Replies 1 when stored, else 0.
 */
export const putLinkAuth: AtomicScript<boolean> = {
  name: "magic-link-put-auth",
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'auth', ARGV[1])
return 1
`,
  local(redis, [requestKey], [sealed]) {
    if (!redis.exists(requestKey)) return 0;
    redis.hset(requestKey, "auth", sealed);
    return 1;
  },
  parse: (reply) => reply === 1,
};

/** Hands the sealed session out once: HGET and HDEL in one step. KEYS: [request]. */
export const takeLinkAuth: AtomicScript<string | null> = {
  name: "magic-link-take-auth",
  lua: `
local auth = redis.call('HGET', KEYS[1], 'auth')
if auth then redis.call('HDEL', KEYS[1], 'auth') end
return auth
`,
  local(redis, [requestKey]) {
    const auth = redis.hget(requestKey, "auth");
    if (auth !== null) redis.hdel(requestKey, "auth");
    return auth;
  },
  parse: (reply) => (typeof reply === "string" ? reply : null),
};

const MISSES = ["UNKNOWN", "EXPIRED", "USED"];

function parseReply<T>(name: string, reply: unknown, statuses: string[]): T {
  const status = Array.isArray(reply) ? reply[0] : undefined;
  if (typeof status !== "string" || !(statuses.includes(status) || MISSES.includes(status))) {
    throw new Error(`${name}: unexpected reply ${JSON.stringify(reply)}`);
  }
  if (status === "OK" && Array.isArray(reply) && reply.length > 1 && !isSnapshot(reply[2])) {
    throw new Error(`${name}: unexpected reply ${JSON.stringify(reply)}`);
  }
  return reply as T;
}

function isSnapshot(value: unknown): value is RequestSnapshot {
  return (
    Array.isArray(value) &&
    value.length === SNAPSHOT_FIELDS.length &&
    value.every((v, i) => typeof v === "string" || (LATER_FIELDS.has(SNAPSHOT_FIELDS[i]) && (v === null || v === false)))
  );
}
