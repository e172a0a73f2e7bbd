import type { EventEmitter } from "node:events";
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { DeliveryQueue, OutgoingMessage } from "../../core/ports";
import type { Logger } from "../log/logger";
import { closeRedis, connectRedis, requestTimeouts, type RedisClient, type RedisTarget } from "../store/redis-connection";
import type { DeliveryAttempts } from "./delivery.attempts";
import type { DeliveryBacklog } from "../metrics/prometheus.metrics";
import { DependencyUnavailableError } from "../../core/outage";
import { DeliveryError } from "./delivery.error";
import { assertPayloadKey, open, seal, SealedPayloadError } from "./sealed-payload";

export interface BullDeliveryQueueOptions {
  /** A `redis://`/`rediss://` URL or a Redis Cluster's nodes. */
  redisUrl: RedisTarget;
  /**
   * BullMQ's key prefix (it refuses ioredis' keyPrefix); tests give each file its own.
   * Used in braces, `{prefix}`: every key of the queue then shares one cluster slot, as
   * BullMQ's scripts need on a Redis Cluster.
   */
  prefix?: string;
  queueName?: string;
  /** Sends at the same time in this process's worker. */
  concurrency?: number;
  /** False: this process only enqueues; another process's worker sends (DELIVERY_WORKER=false). */
  work?: boolean;
  /** How long enqueue waits for a Redis connection that is not up yet (e.g. at start). */
  connectWaitMs?: number;
  /** Enqueue's commands fail after this long (REDIS_COMMAND_TIMEOUT_MS); never the worker's blocking ones. */
  commandTimeoutMs?: number;
  /**
   * 32 bytes: the AES-256-GCM key each job's message is sealed under in Redis. Every
   * instance sharing the queue needs the same one, or it fails the others' jobs.
   */
  payloadKey: Buffer;
}

/**
 * A job as it sits in Redis. The message is sealed, since its address and text hold the
 * code; channel and purpose stay readable for the audit when the seal cannot be opened.
 */
interface DeliveryJob {
  channel: OutgoingMessage["channel"];
  purpose: string;
  sealed: string;
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
 * BullMQ's wrapper around a Redis connection re-emits a failed handshake as an "error"
 * event even after its close() removed every listener (taskforcesh/bullmq#3546): nobody
 * listens, emit throws, and the process gets an unhandled rejection. That failed our CI
 * while Redis was unreachable. An "error" with no listener left is logged and dropped.
 */
function dropLateErrors(wrapper: EventEmitter, log: Logger): void {
  const emit = wrapper.emit.bind(wrapper);
  wrapper.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== "error" || wrapper.listenerCount("error") > 0) return emit(event, ...args);
    log.debug({ err: args[0] }, "delivery: Redis error after the queue closed");
    return false;
  };
}

/** `{prefix}`: BullMQ's keys are `<prefix>:<queue>:...`, so the braces make them one hash tag. */
export const bracedQueuePrefix = (prefix: string): string => `{${prefix}}`;

/**
 * The queue when REDIS_URL is set: a job is in Redis before `enqueue` resolves, so a
 * restart loses nothing, and any instance's worker may send it. Retries are BullMQ
 * delayed jobs whose delay comes from the shared policy (via a custom backoff strategy).
 */
export class BullDeliveryQueue implements DeliveryQueue {
  readonly kind = "bullmq" as const;
  private readonly producerConnection: RedisClient;
  private readonly workerConnection?: RedisClient;
  private readonly queue: Queue<DeliveryJob>;
  private readonly worker?: Worker<DeliveryJob>;
  private readonly connectWaitMs: number;
  private readonly payloadKey: Buffer;
  private closing?: Promise<void>;

  constructor(
    private readonly attempts: DeliveryAttempts,
    options: BullDeliveryQueueOptions,
    log: Logger,
  ) {
    const name = options.queueName ?? "outgoing-messages";
    const prefix = bracedQueuePrefix(options.prefix ?? "delivery");
    this.connectWaitMs = options.connectWaitMs ?? 2_000;
    assertPayloadKey(options.payloadKey);
    this.payloadKey = options.payloadKey;
    // maxRetriesPerRequest: null is what BullMQ requires. The producer also turns the
    // offline queue off, so enqueue fails at once while Redis is down instead of holding
    // the mutation until Redis returns (BullMQ's "failing fast when Redis is down").
    // Our own listeners stay after BullMQ lets go of the connections on close (the queue's
    // and worker's "error" events below already log what happens while they hold them).
    const onError = (err: Error) => log.debug({ err }, "delivery: Redis connection error");
    // A partition (no answer, no close) is bounded by the command timeout, on the producer
    // only: the worker's blocking commands wait longer by design.
    this.producerConnection = connectRedis(options.redisUrl, { maxRetriesPerRequest: null, enableOfflineQueue: false, ...requestTimeouts(options.commandTimeoutMs) }, onError);

    this.queue = new Queue<DeliveryJob>(name, {
      connection: this.producerConnection,
      prefix,
      defaultJobOptions: {
        attempts: attempts.policy.maxAttempts,
        backoff: { type: "delivery-policy" },
        // Sealed or not, the code has no business in Redis once sent or given up.
        // Final failures are in the audit log instead.
        removeOnComplete: true,
        removeOnFail: true,
      },
    });
    if (options.work !== false) {
      this.workerConnection = connectRedis(options.redisUrl, { maxRetriesPerRequest: null }, onError);
      this.worker = new Worker<DeliveryJob>(name, (job) => this.process(job), {
        connection: this.workerConnection,
        prefix,
        concurrency: options.concurrency ?? 5,
        settings: {
          // Anything but our RetryLater is not retried: the processor already decided.
          backoffStrategy: (_attemptsMade, _type, err) => (err instanceof RetryLater ? err.delayMs : -1),
        },
      });
      this.worker.on("error", (err) => log.warn({ err }, "delivery worker: Redis error"));
    }
    this.queue.on("error", (err) => log.warn({ err }, "delivery queue: Redis error"));
    const wrappers = [this.queue, ...(this.worker ? [this.worker] : [])].flatMap((holder) => {
      const { connection, blockingConnection } = holder as unknown as Record<"connection" | "blockingConnection", EventEmitter | undefined>;
      return [connection, blockingConnection];
    });
    for (const wrapper of wrappers) if (wrapper) dropLateErrors(wrapper, log);
  }

  async enqueue(message: OutgoingMessage): Promise<void> {
    if (this.closing) throw new Error("The delivery queue is closed");
    this.attempts.assertDeliverable(message);
    await this.producerReady();
    const job = { channel: message.channel, purpose: message.purpose, sealed: seal(this.payloadKey, message) };
    // A code is retried for its lifetime (the processor decides when to stop); BullMQ's
    // own count must not stop it earlier.
    await this.queue.add("deliver", job, message.expiresAt === undefined ? {} : { attempts: Number.MAX_SAFE_INTEGER });
  }

  /**
   * What waits in Redis (every instance's jobs), for the queue gauges. The oldest is looked
   * for among the jobs being sent, the oldest waiting one and the next 100 retries due (not
   * the whole delayed set: a scrape stays a few bounded reads).
   */
  async backlog(): Promise<DeliveryBacklog> {
    const counts = await this.queue.getJobCounts("waiting", "delayed", "active");
    const [oldestWaiting] = await this.queue.getJobs(["waiting"], 0, 0, true);
    const nextDelayed = await this.queue.getJobs(["delayed"], 0, 99, true);
    const active = await this.queue.getJobs(["active"], 0, 99, true);
    const queuedAt = [oldestWaiting, ...nextDelayed, ...active].filter(Boolean).map((j) => j.timestamp);
    return {
      waiting: counts.waiting ?? 0,
      delayed: counts.delayed ?? 0,
      active: counts.active ?? 0,
      oldestQueuedAt: queuedAt.length ? Math.min(...queuedAt) : null,
    };
  }

  /**
   * Lets sends in flight finish, then disconnects. Jobs still waiting or backing off stay
   * in Redis for the next instance that starts a worker.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.worker?.close();
      await this.queue.close();
      await Promise.all([this.producerConnection, this.workerConnection].map((c) => c && closeRedis(c)));
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
      const timer = setTimeout(() => done(new DependencyUnavailableError(`Redis is unavailable: the message was not queued (no connection within ${this.connectWaitMs} ms)`)), this.connectWaitMs);
      connection.once("ready", onReady);
    });
  }

  private async process(job: Job<DeliveryJob>): Promise<void> {
    // attemptsMade counts the attempts that already ended, so this one is the next.
    const attempt = job.attemptsMade + 1;
    let message: OutgoingMessage;
    try {
      message = open<OutgoingMessage>(this.payloadKey, job.data.sealed);
    } catch (thrown) {
      // Changed in Redis, or sealed by an instance with another key: no retry opens it.
      const why = thrown instanceof SealedPayloadError ? thrown.message : "the sealed payload could not be read";
      const error = new DeliveryError(`queued message refused: ${why}`, { retryable: false });
      await this.attempts.giveUp({ channel: job.data.channel, purpose: job.data.purpose, userId: null }, attempt, error);
      throw new UnrecoverableError(error.reason);
    }
    // The reason our RetryLater gave BullMQ when the attempt before failed.
    const previous = attempt > 1 && job.failedReason ? { reason: job.failedReason } : undefined;
    const outcome = await this.attempts.attempt(message, attempt, previous);
    if (outcome.kind === "retry") throw new RetryLater(outcome.delayMs, outcome.error);
    if (outcome.kind === "failed") throw new UnrecoverableError(outcome.error.reason);
  }
}
