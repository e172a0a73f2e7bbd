import type { Logger } from "../log/logger";
import type { RedisTarget } from "../store/redis-connection";
import { BullDeliveryQueue } from "./bullmq.queue";
import { DeliveryAttempts, type DeliveryAttemptsOptions } from "./delivery.attempts";
import { InProcessDeliveryQueue } from "./memory.queue";

export { BullDeliveryQueue, type BullDeliveryQueueOptions } from "./bullmq.queue";
export { InProcessDeliveryQueue, type InProcessQueueOptions } from "./memory.queue";

export interface DeliveryQueueOptions extends DeliveryAttemptsOptions {
  /** Set: a BullMQ queue in that Redis (or Redis Cluster); unset: an in-process queue (single instance). */
  redisUrl?: RedisTarget;
  /** BullMQ key prefix, so test files (or deployments sharing a Redis) stay apart. */
  queuePrefix?: string;
  concurrency?: number;
  /** BullMQ only: false when another process sends (DELIVERY_WORKER=false); this one only enqueues. */
  work?: boolean;
  /** BullMQ only: how long enqueue waits for a Redis connection still coming up. */
  connectWaitMs?: number;
  /** BullMQ only: enqueue's Redis commands fail after this long (REDIS_COMMAND_TIMEOUT_MS). */
  redisCommandTimeoutMs?: number;
  /**
   * Required with `redisUrl`: the 32-byte key jobs are sealed under in Redis (AES-256-GCM),
   * the same on every instance sharing the queue. The in-process queue ignores it.
   */
  payloadKey?: Buffer;
  log: Logger;
}

/** The `DeliveryQueue` for this deployment: both kinds share the retry policy and audit. */
export function createDeliveryQueue(options: DeliveryQueueOptions): BullDeliveryQueue | InProcessDeliveryQueue {
  const attempts = new DeliveryAttempts(options);
  if (!options.redisUrl) return new InProcessDeliveryQueue(attempts, { concurrency: options.concurrency });
  // A job in Redis holds the code until sent: never store one in clear.
  if (!options.payloadKey) throw new Error("payloadKey is required with redisUrl: BullMQ jobs are sealed at rest");
  const { redisUrl, queuePrefix: prefix, concurrency, work, connectWaitMs, payloadKey, redisCommandTimeoutMs: commandTimeoutMs } = options;
  return new BullDeliveryQueue(attempts, { redisUrl, prefix, concurrency, work, connectWaitMs, commandTimeoutMs, payloadKey }, options.log);
}
