import type { IncomingMessage } from "node:http";
import { isSpanContextValid, trace, type Exception, type Span, type Tracer } from "@opentelemetry/api";
import { ExpressInstrumentation } from "@opentelemetry/instrumentation-express";
import { GraphQLInstrumentation } from "@opentelemetry/instrumentation-graphql";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { redactUrl } from "../log/logger";

/** Required only by src/tracing.ts, and only when an OTLP endpoint is set. */
export interface Tracing {
  /** trace_id and span_id of the active span, added to every log line written inside one. */
  logFields(): Record<string, string>;
  /** Sends the spans still buffered. */
  shutdown(): Promise<void>;
}

export const DEFAULT_SERVICE_NAME = "auth-gateway";

/** Probes every few seconds are noise in a trace store, as they are in the request log. */
const PROBES = new Set(["/healthz", "/readyz"]);

/**
 * The standard OTEL_* variables configure the exporter (endpoint, protocol, headers),
 * sampler and resource. What instrumentations could record that is secret is cut here:
 * query string values (magic links carry `?token=`), Redis arguments (keys and values
 * hold code hashes and session ids), SQL parameter values and GraphQL literals/variables.
 */
export function startTracing(env: NodeJS.ProcessEnv): Tracing {
  const sdk = new NodeSDK({
    serviceName: serviceNameFrom(env),
    // Traces only: no OTLP logs or metrics unless asked for by name.
    logRecordProcessors: env.OTEL_LOGS_EXPORTER ? undefined : [],
    metricReaders: env.OTEL_METRICS_EXPORTER ? undefined : [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => PROBES.has((req.url ?? "").split("?")[0]),
        // Hook attributes are applied after the instrumentation's own, so these replace them.
        startIncomingSpanHook: (req: IncomingMessage) => (hasQuery(req.url) ? { "url.query": queryNamesOnly(req.url!) } : {}),
        startOutgoingSpanHook: (opts) => (hasQuery(opts.path ?? undefined) ? { "url.full": outgoingUrl(opts) } : {}),
      }),
      new ExpressInstrumentation(),
      // allowValues: false replaces every literal in graphql.source with "*" and records no variables.
      new GraphQLWithoutQuotedTokens({ allowValues: false, mergeItems: true, ignoreTrivialResolveSpans: true }),
      // Only the command name: BullMQ's background polling (no parent span) is left out.
      new IORedisInstrumentation({ dbStatementSerializer: (cmdName) => cmdName, requireParentSpan: true }),
      // Statements are parameterised; values are recorded only with enhancedDatabaseReporting.
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    ],
  });
  sdk.start();
  return {
    logFields(): Record<string, string> {
      const ctx = trace.getActiveSpan()?.spanContext();
      if (!ctx || !isSpanContextValid(ctx)) return {};
      return { trace_id: ctx.traceId, span_id: ctx.spanId };
    },
    shutdown: () => sdk.shutdown(),
  };
}

/** graphql-js quotes the offending token in parse and validation errors (`found String "…"`). */
const QUOTING_SPANS = new Set(["graphql.parse", "graphql.validate"]);
export const QUOTED_TOKENS_REDACTED = "[redacted: graphql-js error messages quote the document]";

/**
 * allowValues: false keeps literals out of graphql.source, but the parse and validate spans
 * record graphql-js's error messages as exception events, and those quote the token that
 * failed: a password typed without its colon, or given as a number. Their exceptions keep
 * the error's name only.
 */
class GraphQLWithoutQuotedTokens extends GraphQLInstrumentation {
  protected override get tracer(): Tracer {
    const tracer = super.tracer;
    return {
      startSpan: (name, options, ctx) => {
        const span = tracer.startSpan(name, options, ctx);
        return QUOTING_SPANS.has(name) ? withoutExceptionMessages(span) : span;
      },
      startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer["startActiveSpan"],
    };
  }
}

function withoutExceptionMessages(span: Span): Span {
  const record = span.recordException.bind(span);
  span.recordException = (exception: Exception, time) => {
    const name = typeof exception === "object" && exception.name ? exception.name : "GraphQLError";
    record({ name, message: QUOTED_TOKENS_REDACTED }, time);
  };
  return span;
}

/** OTEL_SERVICE_NAME, or service.name in OTEL_RESOURCE_ATTRIBUTES, wins over the default. */
export function serviceNameFrom(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_SERVICE_NAME) return env.OTEL_SERVICE_NAME;
  if (/(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? "")) return undefined;
  return DEFAULT_SERVICE_NAME;
}

const hasQuery = (url: string | undefined): boolean => (url ?? "").includes("?");

/** `token=[redacted]&next=[redacted]`: the names say which link it was, no value is kept. */
export function queryNamesOnly(url: string): string {
  const redacted = redactUrl(url);
  return redacted.slice(redacted.indexOf("?") + 1);
}

function outgoingUrl(opts: { protocol?: string | null; host?: string | null; hostname?: string | null; port?: number | string | null; path?: string | null }): string {
  const host = opts.hostname ?? opts.host ?? "localhost";
  const port = opts.port ? `:${opts.port}` : "";
  return `${opts.protocol ?? "http:"}//${host}${port}${redactUrl(opts.path ?? "/")}`;
}
