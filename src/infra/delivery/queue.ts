import type { Logger } from "../log/logger";
import { BullDeliveryQueue } from "./bullmq.queue";
import { DeliveryAttempts, type DeliveryAttemptsOptions } from "./delivery.attempts";
import { InProcessDeliveryQueue } from "./memory.queue";

export { BullDeliveryQueue, type BullDeliveryQueueOptions } from "./bullmq.queue";
export { InProcessDeliveryQueue, type InProcessQueueOptions } from "./memory.queue";

export interface DeliveryQueueOptions extends DeliveryAttemptsOptions {
  /** Set: a BullMQ queue in that Redis; unset: an in-process queue (single instance). */
  redisUrl?: string;
  /** BullMQ key prefix, so test files (or deployments sharing a Redis) stay apart. */
  queuePrefix?: string;
  concurrency?: number;
  /** BullMQ only: how long enqueue waits for a Redis connection still coming up. */
  connectWaitMs?: number;
  log: Logger;
}

/** The `DeliveryQueue` for this deployment: both kinds share the retry policy and audit. */
export function createDeliveryQueue(options: DeliveryQueueOptions): BullDeliveryQueue | InProcessDeliveryQueue {
  const attempts = new DeliveryAttempts(options);
  return options.redisUrl
    ? new BullDeliveryQueue(attempts, { redisUrl: options.redisUrl, prefix: options.queuePrefix, concurrency: options.concurrency, connectWaitMs: options.connectWaitMs }, options.log)
    : new InProcessDeliveryQueue(attempts, { concurrency: options.concurrency });
}
