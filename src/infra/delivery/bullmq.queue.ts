import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { DeliveryQueue, OutgoingMessage } from "../../core/ports";
import type { Logger } from "../log/logger";
import { closeRedis, connectRedis } from "../store/redis-connection";
import type { DeliveryAttempts } from "./delivery.attempts";
import type { DeliveryError } from "./delivery.error";

export interface BullDeliveryQueueOptions {
  redisUrl: string;
  /** BullMQ's key prefix (it refuses ioredis' keyPrefix); tests give each file its own. */
  prefix?: string;
  queueName?: string;
  /** Sends at the same time in this process's worker. */
  concurrency?: number;
  /** How long enqueue waits for a Redis connection that is not up yet (e.g. at start). */
  connectWaitMs?: number;
}

/** Thrown from the processor so BullMQ retries after the delay our policy chose. */
class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    error: DeliveryError,
  ) {
    super(error.reason);
    this.name = "RetryLater";
  }
}

/**
 * The queue when REDIS_URL is set: a job is in Redis before `enqueue` resolves, so a
 * restart loses nothing, and any instance's worker may send it. Retries are BullMQ
 * delayed jobs whose delay comes from the shared policy (via a custom backoff strategy).
 */
export class BullDeliveryQueue implements DeliveryQueue {
  readonly kind = "bullmq" as const;
  private readonly producerConnection: Redis;
  private readonly workerConnection: Redis;
  private readonly queue: Queue<OutgoingMessage>;
  private readonly worker: Worker<OutgoingMessage>;
  private readonly connectWaitMs: number;
  private closing?: Promise<void>;

  constructor(
    private readonly attempts: DeliveryAttempts,
    options: BullDeliveryQueueOptions,
    log: Logger,
  ) {
    const name = options.queueName ?? "outgoing-messages";
    const prefix = options.prefix ?? "delivery";
    this.connectWaitMs = options.connectWaitMs ?? 2_000;
    // maxRetriesPerRequest: null is what BullMQ requires. The producer also turns the
    // offline queue off, so enqueue fails at once while Redis is down instead of holding
    // the mutation until Redis returns (BullMQ's "failing fast when Redis is down").
    this.producerConnection = connectRedis(options.redisUrl, { maxRetriesPerRequest: null, enableOfflineQueue: false });
    this.workerConnection = connectRedis(options.redisUrl, { maxRetriesPerRequest: null });

    this.queue = new Queue<OutgoingMessage>(name, {
      connection: this.producerConnection,
      prefix,
      defaultJobOptions: {
        attempts: attempts.policy.maxAttempts,
        backoff: { type: "delivery-policy" },
        // The job data holds the code in clear: keep it in Redis no longer than needed.
        // Final failures are in the audit log instead.
        removeOnComplete: true,
        removeOnFail: true,
      },
    });
    this.worker = new Worker<OutgoingMessage>(name, (job) => this.process(job), {
      connection: this.workerConnection,
      prefix,
      concurrency: options.concurrency ?? 5,
      settings: {
        // Anything but our RetryLater is not retried: the processor already decided.
        backoffStrategy: (_attemptsMade, _type, err) => (err instanceof RetryLater ? err.delayMs : -1),
      },
    });
    this.queue.on("error", (err) => log.warn({ err }, "delivery queue: Redis error"));
    this.worker.on("error", (err) => log.warn({ err }, "delivery worker: Redis error"));
  }

  async enqueue(message: OutgoingMessage): Promise<void> {
    if (this.closing) throw new Error("The delivery queue is closed");
    this.attempts.assertDeliverable(message);
    await this.producerReady();
    await this.queue.add("deliver", message);
  }

  /** Resolves when the worker is connected and taking jobs. */
  async ready(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.worker.waitUntilReady()]);
  }

  /**
   * Lets sends in flight finish, then disconnects. Jobs still waiting or backing off stay
   * in Redis for the next instance that starts a worker.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.worker.close();
      await this.queue.close();
      await Promise.all([closeRedis(this.producerConnection), closeRedis(this.workerConnection)]);
    })();
    return this.closing;
  }

  /**
   * Without the offline queue a dropped connection fails `add` at once, but one that never
   * came up makes BullMQ wait for it forever: bound that wait, and never add after giving
   * up, so a caller told "not queued" is not sent a message anyway.
   */
  private async producerReady(): Promise<void> {
    const connection = this.producerConnection;
    if (connection.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        connection.off("ready", onReady);
        if (error) reject(error);
        else resolve();
      };
      const onReady = (): void => done();
      const timer = setTimeout(() => done(new Error(`Redis is unavailable: the message was not queued (no connection within ${this.connectWaitMs} ms)`)), this.connectWaitMs);
      connection.once("ready", onReady);
    });
  }

  private async process(job: Job<OutgoingMessage>): Promise<void> {
    // attemptsMade counts the attempts that already ended, so this one is the next.
    const outcome = await this.attempts.attempt(job.data, job.attemptsMade + 1);
    if (outcome.kind === "retry") throw new RetryLater(outcome.delayMs, outcome.error);
    if (outcome.kind === "failed") throw new UnrecoverableError(outcome.error.reason);
  }
}
