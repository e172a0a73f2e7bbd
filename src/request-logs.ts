import { randomUUID } from "node:crypto";
import type express from "express";
import type { Logger } from "pino";
import { redactUrl } from "./infra/log/logger";

/** A client's X-Request-Id is kept when it is a plain id. */
const REQUEST_ID = /^[\w.:-]{1,64}$/;

declare module "node:http" {
  interface IncomingMessage {
    /** X-Request-Id: the client's when it is a plain id, else a new UUID. */
    id: string;
    /** Lines about this request: they carry `req` (id, method, URL without query values). */
    log: Logger;
  }
}

/**
 * Request ids and one `request completed` line per request (health probes aside), naming
 * the GraphQL operation once known. pino-http did this with three child loggers per
 * request; `req.log` is made on first use, and most requests log nothing but that line.
 */
export function requestLogs(log: Logger): express.RequestHandler {
  // The request line's fields are fixed and hold nothing secret (the URL without query
  // values): written without pino's redaction, which costs ~40 µs a line (5 without), on
  // every request. Every other line, req.log's included, is redacted as before.
  const lines = log.child({}, { redact: [] });
  return (req, res, next) => {
    const given = req.headers["x-request-id"];
    const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", id);
    const fields = { id, method: req.method, url: redactUrl(req.url) };
    let child: Logger | undefined;
    Object.defineProperties(req, {
      id: { value: id },
      log: { get: () => (child ??= log.child({ req: fields })) },
    });
    if (req.url === "/healthz" || req.url === "/readyz") return next();
    const started = performance.now();
    // "close" comes after "finish", and alone when the client left before the answer.
    res.once("close", () => {
      const line = { req: fields, res: { statusCode: res.statusCode }, responseTime: Math.round(performance.now() - started), ...operationOf(req) };
      if (!res.writableFinished) lines.info(line, "request aborted");
      else if (res.statusCode >= 500) lines.error(line, "request errored");
      else lines.info(line, "request completed");
    });
    next();
  };
}

export interface LazyLog {
  logOf: () => Logger;
}
/**
 * `log` of an HTTP context, on the prototype: Apollo copies the context for each operation
 * with Object.assign onto the same prototype, which would freeze an own getter's value.
 */
export const LAZY_LOG = Object.freeze({
  get log(): Logger {
    return (this as unknown as LazyLog).logOf();
  },
});

/** A request's logger, made when first read, naming the operation from the moment it is known. */
export function namedOnceKnown(base: () => Logger, operation: OperationLabel): () => Logger {
  let made: Logger | undefined;
  let named = false;
  return () => {
    if (!made || (!named && operation.operationType)) {
      named = operation.operationType !== undefined;
      made = named ? base().child({ operationName: operation.operationName, operationType: operation.operationType }) : base();
    }
    return made;
  };
}

/** The GraphQL operation of an HTTP request, filled in once it parsed and validated. */
export interface OperationLabel {
  operationName?: string;
  operationType?: string;
}

const operations = new WeakMap<object, OperationLabel>();
/** One record per request, shared by its context, its log line and its metrics. */
export function operationOf(req: object): OperationLabel {
  let op = operations.get(req);
  if (!op) operations.set(req, (op = {}));
  return op;
}

