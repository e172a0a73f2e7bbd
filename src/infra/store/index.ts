export { RedisStore, createRedisStore, type RedisStoreOptions } from "./redis.store";
export { MemoryStore, MemoryKeyspace, createMemoryStore, type MemoryStoreOptions } from "./memory.store";
export { probeRedis, describeRedisTarget, isCluster, type RedisClusterTarget, type RedisTarget } from "./redis-connection";
