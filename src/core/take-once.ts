import type { AtomicScript } from "./ports";

/**
 * GET and DEL in one step (GETDEL, Redis 6.2+, written as a script for the in-process twin):
 * of concurrent takes of a single-use record only the first gets it, the others nothing.
 */
export const takeOnce: AtomicScript<string | null> = {
  name: "take-once",
  lua: `
local v = redis.call("GET", KEYS[1])
if v then redis.call("DEL", KEYS[1]) end
return v`,
  local(redis, [key]) {
    const v = redis.get(key);
    if (v !== null) redis.del(key);
    return v;
  },
  parse: (reply) => (typeof reply === "string" ? reply : null),
};
