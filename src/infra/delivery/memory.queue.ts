import type { DeliveryQueue, OutgoingMessage } from "../../core/ports";
import { DeliveryError } from "./delivery.error";
import type { DeliveryAttempts } from "./delivery.attempts";
import type { DeliveryBacklog } from "../metrics/prometheus.metrics";

export interface InProcessQueueOptions {
  /** Sends at the same time. */
  concurrency?: number;
}

interface Job {
  message: OutgoingMessage;
  /** The attempt this job is waiting for, 1-based. */
  attempt: number;
  /** Why the previous attempt failed. */
  lastError?: DeliveryError;
  /** When it was first queued (ms since the epoch), for the oldest-job gauge. */
  queuedAt: number;
}

/**
 * The queue when REDIS_URL is unset: same retry policy and audit as the BullMQ queue,
 * but jobs live in this process only, so a restart loses what was not sent yet.
 */
export class InProcessDeliveryQueue implements DeliveryQueue {
  readonly kind = "memory" as const;
  private readonly ready: Job[] = [];
  private readonly sending = new Set<Promise<void>>();
  /** The jobs those sends are for. */
  private readonly inFlight = new Set<Job>();
  /** Jobs waiting out a backoff, by the timer that will put them back in `ready`. */
  private readonly backingOff = new Map<NodeJS.Timeout, Job>();
  private readonly concurrency: number;
  private closed = false;

  constructor(
    private readonly attempts: DeliveryAttempts,
    options: InProcessQueueOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 5;
  }

  async enqueue(message: OutgoingMessage): Promise<void> {
    if (this.closed) throw new Error("The delivery queue is closed");
    this.attempts.assertDeliverable(message);
    // A copy, so a caller changing its object later cannot change what is sent.
    this.ready.push({ message: structuredClone(message), attempt: 1, queuedAt: Date.now() });
    // Sending starts on a later tick: enqueue returns before any provider is contacted.
    setImmediate(() => this.pump());
  }

  /**
   * Stops taking messages, sends those already waiting, and waits for sends in flight.
   * Messages waiting out a backoff are not retried any more: they are audited as failed,
   * since nothing will deliver them once this process is gone.
   */
  async close(): Promise<void> {
    this.closed = true;
    const dropped = [...this.backingOff.entries()];
    this.backingOff.clear();
    for (const [timer] of dropped) clearTimeout(timer);
    this.pump();
    while (this.sending.size > 0) await Promise.all([...this.sending]);
    for (const [, job] of dropped) await this.giveUpOnClose(job);
  }

  /** What waits, for the queue gauges. */
  async backlog(): Promise<DeliveryBacklog> {
    const unsent = [...this.ready, ...this.backingOff.values(), ...this.inFlight];
    return {
      waiting: this.ready.length,
      delayed: this.backingOff.size,
      active: this.inFlight.size,
      oldestQueuedAt: unsent.length ? Math.min(...unsent.map((j) => j.queuedAt)) : null,
    };
  }

  private pump(): void {
    while (this.sending.size < this.concurrency && this.ready.length > 0) {
      const job = this.ready.shift() as Job;
      this.inFlight.add(job);
      const sending: Promise<void> = this.run(job).finally(() => {
        this.inFlight.delete(job);
        this.sending.delete(sending);
        this.pump();
      });
      this.sending.add(sending);
    }
  }

  private async run(job: Job): Promise<void> {
    const outcome = await this.attempts.attempt(job.message, job.attempt, job.lastError);
    if (outcome.kind !== "retry") return;
    const next: Job = { message: job.message, attempt: job.attempt + 1, lastError: outcome.error, queuedAt: job.queuedAt };
    if (this.closed) return this.giveUpOnClose(next);
    const timer = setTimeout(() => {
      this.backingOff.delete(timer);
      this.ready.push(next);
      this.pump();
    }, outcome.delayMs);
    this.backingOff.set(timer, next);
  }

  private giveUpOnClose(job: Job): Promise<void> {
    const last = job.lastError;
    const error = new DeliveryError(`${last ? `${last.reason}; ` : ""}not retried: the queue was closed`, { retryable: false, status: last?.status });
    return this.attempts.giveUp(job.message, job.attempt - 1, error);
  }
}
