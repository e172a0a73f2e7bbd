import type { AtomicScript } from "../../src/core/ports";

/**
 * A key as stored, through the store port (so it sees the Redis key prefix like the code
 * under test): [exists, PTTL, sorted "field=value" of a hash, or [value] of a string].
 */
export const inspectKey: AtomicScript<[number, number, string[]]> = {
  name: "test-inspect-key",
  lua: `
local kind = redis.call('TYPE', KEYS[1]).ok
local values = {}
if kind == 'hash' then
  local flat = redis.call('HGETALL', KEYS[1])
  for i = 1, #flat, 2 do values[#values + 1] = flat[i] .. '=' .. flat[i + 1] end
  table.sort(values)
elseif kind == 'string' then
  values[1] = redis.call('GET', KEYS[1])
end
return {redis.call('EXISTS', KEYS[1]), redis.call('PTTL', KEYS[1]), values}
`,
  local(redis, [key]) {
    if (!redis.exists(key)) return [0, -2, []];
    let values: string[];
    try {
      values = [redis.get(key) as string];
    } catch {
      values = Object.entries(redis.hgetall(key)).map(([field, value]) => `${field}=${value}`).sort();
    }
    return [1, redis.pttl(key), values];
  },
  parse: (reply) => reply as [number, number, string[]],
};
