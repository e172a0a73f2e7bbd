import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AuditLog, AuthEventInput, Metrics, OutgoingMessage, RefreshOutcome } from "../../core/ports";

/** What a delivery queue holds right now, for the queue gauges. */
export interface DeliveryBacklog {
  /** Ready to send, waiting for a worker. */
  waiting: number;
  /** Waiting out a retry's backoff. */
  delayed: number;
  /** Being sent. */
  active: number;
  /** When the oldest unsent message was first queued (ms since the epoch); null when none waits. */
  oldestQueuedAt: number | null;
}

export interface BacklogSource {
  backlog(): Promise<DeliveryBacklog>;
}

/** Operation names are the client's words: at most this many distinct ones become labels. */
export const MAX_OPERATION_NAMES = 100;
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const OPERATION_TYPES = new Set(["query", "mutation", "subscription"]);

/**
 * The gateway's metrics in a Prometheus registry of its own (several gateways in one test
 * process never share counters). Names start with `auth_gateway_`; Node's defaults
 * (event-loop delay, heap, GC) are added once the endpoint is served.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly operationNames = new Set<string>();
  private defaultsOn = false;

  private readonly signIns = new Counter({
    name: "auth_gateway_sign_in_attempts_total",
    help: "Sign-in and second-factor attempts by method and outcome (authenticated, mfa_required, or the error code).",
    labelNames: ["method", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly signUps = new Counter({
    name: "auth_gateway_sign_ups_total",
    help: "Accounts created, by method.",
    labelNames: ["method"] as const,
    registers: [this.registry],
  });
  private readonly codesRequested = new Counter({
    name: "auth_gateway_codes_requested_total",
    help: "One-time codes (kind=code) and sign-in links (kind=link) requested, by channel.",
    labelNames: ["channel", "kind"] as const,
    registers: [this.registry],
  });
  private readonly messages = new Counter({
    name: "auth_gateway_messages_total",
    help: "Messages by channel and outcome: sent, retried (an attempt failed, another follows), failed (given up).",
    labelNames: ["channel", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly rateLimits = new Counter({
    name: "auth_gateway_rate_limited_total",
    help: "Requests refused by a rate limit or an SMS guard rule, by limit.",
    labelNames: ["limit"] as const,
    registers: [this.registry],
  });
  private readonly smsGuardTrips = new Counter({
    name: "auth_gateway_sms_guard_trips_total",
    help: "SMS toll-fraud rules tripping (once per window and country or number block), by rule.",
    labelNames: ["rule"] as const,
    registers: [this.registry],
  });
  private readonly refreshes = new Counter({
    name: "auth_gateway_refreshes_total",
    help: "Refresh-token rotations by outcome: rotated, invalid, reused (theft signal: the session was revoked), idle_timeout.",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  private readonly auditEvents = new Counter({
    name: "auth_gateway_audit_events_total",
    help: "Audit-trail events by type and ok.",
    labelNames: ["type", "ok"] as const,
    registers: [this.registry],
  });
  private readonly graphqlDuration = new Histogram({
    name: "auth_gateway_graphql_operation_duration_seconds",
    help: `GraphQL operations over HTTP by operation name (unknown: did not parse or validate; anonymous; other: past ${MAX_OPERATION_NAMES} names) and type.`,
    labelNames: ["operation", "type"] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: "auth_gateway_http_request_duration_seconds",
    help: "HTTP requests by method, route (a known path, else other) and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });

  signInAttempt(method: string, outcome: string): void {
    this.signIns.inc({ method, outcome });
  }

  rateLimited(limit: string): void {
    this.rateLimits.inc({ limit });
  }

  refreshed(outcome: RefreshOutcome): void {
    this.refreshes.inc({ outcome });
  }

  delivery(channel: OutgoingMessage["channel"], outcome: "sent" | "retried" | "failed"): void {
    // A BullMQ job's channel is read back from Redis: keep the label set closed.
    this.messages.inc({ channel: ["email", "sms", "voice"].includes(channel) ? channel : "other", outcome });
  }

  /** Audit types and their detail values used here are constants of the services, never input. */
  auditEvent(e: AuthEventInput): void {
    this.auditEvents.inc({ type: e.type, ok: String(e.ok) });
    const detail = e.detail ?? {};
    switch (e.type) {
      case "otp.requested":
        this.codesRequested.inc({ channel: String(detail.channel).toLowerCase(), kind: "code" });
        break;
      case "magic_link.requested":
        this.codesRequested.inc({ channel: "email", kind: "link" });
        break;
      case "sms.guard.tripped":
        this.smsGuardTrips.inc({ rule: String(detail.rule) });
        break;
      case "user.signed_up":
        this.signUps.inc({ method: String(detail.method) });
        break;
    }
  }

  /** `name` null: the operation did not parse or validate. */
  observeGraphqlOperation(name: string | null | undefined, type: string | null | undefined, seconds: number): void {
    this.graphqlDuration.observe({ operation: this.operationLabel(name), type: type && OPERATION_TYPES.has(type) ? type : "unknown" }, seconds);
  }

  observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method: ["GET", "POST", "OPTIONS", "HEAD"].includes(method) ? method : "other", route, status: String(status) }, seconds);
  }

  /** Queue depth and the oldest job's age, read from the queue at each scrape. */
  watchDeliveryQueue(queue: BacklogSource, onError: (err: unknown) => void = () => {}): void {
    let last: Promise<DeliveryBacklog | null> | null = null;
    // Both gauges of one scrape read the same backlog.
    const read = (): Promise<DeliveryBacklog | null> =>
      (last ??= queue
        .backlog()
        .catch((err) => {
          onError(err);
          return null;
        })
        .finally(() => setImmediate(() => (last = null))));
    new Gauge({
      name: "auth_gateway_delivery_queue_jobs",
      help: "Messages in the delivery queue by state: waiting (for a worker), delayed (a retry's backoff), active (being sent).",
      labelNames: ["state"] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const b = await read();
        if (!b) return;
        this.set({ state: "waiting" }, b.waiting);
        this.set({ state: "delayed" }, b.delayed);
        this.set({ state: "active" }, b.active);
      },
    });
    new Gauge({
      name: "auth_gateway_delivery_queue_oldest_job_age_seconds",
      help: "How long the oldest unsent message has been queued (0 when none waits).",
      registers: [this.registry],
      async collect() {
        this.reset();
        const b = await read();
        if (b) this.set(b.oldestQueuedAt === null ? 0 : Math.max(0, (Date.now() - b.oldestQueuedAt) / 1000));
      },
    });
  }

  /** Node's own metrics (event-loop delay, heap, GC, handles), once. */
  collectDefaults(): void {
    if (this.defaultsOn) return;
    this.defaultsOn = true;
    collectDefaultMetrics({ register: this.registry });
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private operationLabel(name: string | null | undefined): string {
    if (name === null) return "unknown";
    if (name === undefined || name === "") return "anonymous";
    if (!GRAPHQL_NAME.test(name)) return "other";
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return "other";
    this.operationNames.add(name);
    return name;
  }
}

/** The audit trail, counted on the way: services keep calling `audit.record` and nothing else. */
export function countedAuditLog(audit: AuditLog, metrics: Metrics): AuditLog {
  return {
    async record(event) {
      metrics.auditEvent(event);
      await audit.record(event);
    },
  };
}
