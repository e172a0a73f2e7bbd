import pino, { type Logger } from "pino";

/** Where secrets could appear in a log line; pino replaces them before anything is written. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "*.password",
  "*.currentPassword",
  "*.newPassword",
  // One-time and recovery codes where they arrive (mutation input and arguments). Not
  // "*.code": that would also hide err.code (ECONNREFUSED, P1001), which on-call needs.
  "input.code",
  "*.input.code",
  "args.code",
  "*.args.code",
  "*.codes",
  "*.recoveryCodes",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.mfaToken",
  "*.listenToken",
  "*.matchCode",
  "*.secret",
  "*.authorization",
  "*.variables",
  "variables",
];

export function createLogger(opts: { level: string; destination?: pino.DestinationStream; mixin?: () => object }): Logger {
  return pino(
    {
      level: opts.level,
      // With tracing on: trace_id and span_id of the active span on each line.
      ...(opts.mixin && { mixin: opts.mixin }),
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      // "level":"warn", not 40: readable without a lookup table.
      formatters: { level: (label) => ({ level: label }) },
      base: { service: "auth-gateway" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}

/** A URL for the log: the path, and query parameter names without their values (links carry tokens). */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const names = [...new URLSearchParams(url.slice(q + 1)).keys()];
  return `${url.slice(0, q)}?${names.map((n) => `${n}=[redacted]`).join("&")}`;
}

/** A service URL for the log: scheme, user, host and path; never the password or the query (sslpassword=…). */
export function redactUrlCredentials(url: string): string {
  if (!URL.canParse(url)) return "(unreadable URL)";
  const u = new URL(url);
  const user = u.username || u.password ? `${u.username}${u.password ? ":***" : ""}@` : "";
  return `${u.protocol}//${user}${u.host}${u.pathname === "/" ? "" : u.pathname}`;
}

export type { Logger };
