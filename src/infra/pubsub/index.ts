export { RedisBus, createRedisBus, type RedisBusOptions } from "./redis.bus";
export { MemoryBus, createMemoryBus } from "./memory.bus";
