/**
 * Loaded first by main.ts: instrumentations patch http, express, graphql, ioredis and pg
 * as they are required, so they must be registered before any of those loads.
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or its traces-only form) is set; then nothing
 * of OpenTelemetry is even required.
 */
import type { Tracing } from "./infra/tracing/sdk";

export type { Tracing };

export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export const tracing: Tracing | undefined = tracingRequested(process.env)
  ? // A plain require, not import(): it must run now, before main.ts's other imports.
    (require("./infra/tracing/sdk") as typeof import("./infra/tracing/sdk")).startTracing(process.env)
  : undefined;
