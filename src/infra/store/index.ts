export { RedisStore, createRedisStore, type RedisStoreOptions } from "./redis.store";
export { MemoryStore, MemoryKeyspace, createMemoryStore, type MemoryStoreOptions } from "./memory.store";
export { probeRedis } from "./redis-connection";
