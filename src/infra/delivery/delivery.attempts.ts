import { noMetrics, systemClock, type AuditLog, type Clock, type Metrics, type OutgoingMessage } from "../../core/ports";
import type { Logger } from "../log/logger";
import { DeliveryError, toDeliveryError } from "./delivery.error";
import { decideRetry, retryPolicy, type RetryPolicy } from "./retry-policy";
import { ChannelDisabledError, type ChannelSenders } from "./sender";

export interface DeliveryAttemptsOptions {
  senders: ChannelSenders;
  audit: AuditLog;
  log: Logger;
  retry?: Partial<RetryPolicy>;
  /** Jitter source; tests may pin it. */
  random?: () => number;
  /** Judges `expiresAt`: the clock the services stamped it with. */
  clock?: Clock;
  /** Counts messages sent, retried and failed by channel. */
  metrics?: Metrics;
}

/** What a failure is audited under; a message whose sealed payload cannot be opened has no more. */
export type MessageLabel = Pick<OutgoingMessage, "channel" | "purpose" | "userId">;

export type AttemptOutcome =
  | { kind: "sent" }
  | { kind: "retry"; delayMs: number; error: DeliveryError }
  | { kind: "failed"; error: DeliveryError };

/**
 * One send and what follows from it, shared by both queues so they retry and audit alike:
 * the queue only decides *how* to wait (a BullMQ delayed job, or a timer).
 */
export class DeliveryAttempts {
  readonly policy: RetryPolicy;
  private readonly senders: ChannelSenders;
  private readonly audit: AuditLog;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly metrics: Metrics;

  constructor(options: DeliveryAttemptsOptions) {
    this.policy = retryPolicy(options.retry);
    this.senders = options.senders;
    this.audit = options.audit;
    this.log = options.log;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? noMetrics;
  }

  /** Refuses at enqueue a channel with no sender, so the caller hears it at once. */
  assertDeliverable(message: OutgoingMessage): void {
    if (!this.senders[message.channel]) throw new ChannelDisabledError(message.channel);
  }

  /**
   * Sends once (`attempt` is 1-based) and says whether and when to try again. `previous`
   * is why the attempt before failed, for the audit when this one never starts.
   */
  async attempt(message: OutgoingMessage, attempt: number, previous?: { reason: string; status?: number }): Promise<AttemptOutcome> {
    const sender = this.senders[message.channel];
    const context = { channel: message.channel, purpose: message.purpose, userId: message.userId ?? undefined, attempt };
    if (!sender) {
      // Queued by an instance that had the channel on (the BullMQ queue is shared).
      const error = new DeliveryError(`no ${message.channel} sender on this instance`, { retryable: false });
      await this.giveUp(message, attempt, error);
      return { kind: "failed", error };
    }
    // A code that arrives after it expired only confuses (a backlog, a restart, a long outage).
    if (message.expiresAt !== undefined && this.lifeLeftMs(message) <= 0) {
      const why = previous ? `${previous.reason}; expired before attempt ${attempt}` : "not sent: the message expired while it waited";
      const error = new DeliveryError(why, { retryable: false, status: previous?.status });
      await this.giveUp(message, attempt - 1, error);
      return { kind: "failed", error };
    }
    try {
      await sender.send(message);
      this.metrics.delivery(message.channel, "sent");
      this.log.debug({ ...context, sender: sender.name }, "message delivered");
      return { kind: "sent" };
    } catch (thrown) {
      const error = toDeliveryError(thrown);
      const lifeLeftMs = message.expiresAt === undefined ? undefined : this.lifeLeftMs(message);
      const decision = decideRetry(this.policy, attempt, error, this.random, lifeLeftMs);
      if (decision.retry) {
        this.metrics.delivery(message.channel, "retried");
        this.log.info({ ...context, sender: sender.name, reason: error.reason, cause: describeCause(error.cause), delayMs: decision.delayMs }, "delivery failed; will retry");
        return { kind: "retry", delayMs: decision.delayMs, error };
      }
      await this.giveUp(message, attempt, error, decision.why);
      return { kind: "failed", error };
    }
  }

  private lifeLeftMs(message: OutgoingMessage): number {
    return (message.expiresAt as number) - this.clock.now().getTime();
  }

  /**
   * Records a final failure. The audit detail names the channel, purpose and cause, never
   * the text (it carries the code). An audit outage is logged, not retried: resending
   * because the audit write failed would deliver the code twice.
   */
  async giveUp(message: MessageLabel, attempts: number, error: DeliveryError, why?: string): Promise<void> {
    const reason = why ? `${error.reason}; ${why}` : error.reason;
    const detail = { channel: message.channel, purpose: message.purpose, attempts, status: error.status ?? null, reason };
    this.metrics.delivery(message.channel, "failed");
    this.log.warn({ ...detail, userId: message.userId ?? undefined, cause: describeCause(error.cause) }, "delivery failed for good");
    try {
      await this.audit.record({ type: "delivery.failed", ok: false, userId: message.userId ?? null, detail });
    } catch (auditError) {
      this.log.error({ err: auditError, ...detail }, "could not audit a failed delivery");
    }
  }
}

/**
 * The provider error for the logs, by name, code and message only: an HTTP client error
 * also carries the request it sent, and that form body holds the code.
 */
function describeCause(cause: unknown): { name?: string; code?: unknown; message?: string } | undefined {
  if (!(cause instanceof Error)) return cause === undefined ? undefined : { message: String(cause) };
  return { name: cause.name, code: (cause as { code?: unknown }).code, message: cause.message };
}
