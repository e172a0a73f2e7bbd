export { RedisStore, createRedisStore, type RedisStoreOptions } from "./redis.store";
export { MemoryStore, MemoryKeyspace, createMemoryStore, toRedisReply, type MemoryStoreOptions } from "./memory.store";
export { fixedWindowHit } from "./fixed-window.script";
