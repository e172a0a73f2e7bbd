/**
 * Failures that say a dependency (Redis, Postgres) is down, partitioned or overloaded, not
 * that the request or the code is wrong: the client gets UNAVAILABLE with `retryAfter`
 * instead of INTERNAL_SERVER_ERROR. Recognised by shape, so that nothing outside infra/
 * imports a driver; infra/ may throw `DependencyUnavailableError` for its own checks.
 */
export class DependencyUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DependencyUnavailableError";
  }
}

/** Socket errors: nothing answered, or the connection went away. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EAI_AGAIN", "ENOTFOUND"]);

/**
 * Postgres SQLSTATEs: class 08 (connection exception), 53300 too many connections,
 * 57014 query canceled (statement_timeout), 57P01–57P03 shutting down or starting up.
 */
const POSTGRES_STATES = /^(08...|53300|57014|57P0[123])$/;

/**
 * Prisma's codes for an unreachable or timed-out database: P1001 cannot reach, P1002
 * timed out, P1008 operation timed out, P1017 connection closed, P2024 no pool connection
 * in time, P2037 too many connections.
 */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);

/** ioredis' and pg's own wording for a timeout or a lost connection (they set no code). */
const DRIVER_MESSAGES = [
  /^Command timed out$/, // ioredis commandTimeout
  /^Connection is closed\.?$/, // ioredis
  /^Stream isn't writeable and enableOfflineQueue options is false$/, // ioredis
  /^Reached the max retries per request limit/, // ioredis MaxRetriesPerRequestError
  /^Cluster isn't ready and enableOfflineQueue options is false$/, // ioredis Cluster
  /^Too many Cluster redirections/, // ioredis Cluster: CLUSTERDOWN/TRYAGAIN past its retries
  /^None of startup nodes is available$/, // ioredis Cluster
  /^Failed to refresh slots cache/, // ioredis Cluster
  /^Query read timeout$/, // pg query_timeout
  /^timeout exceeded when trying to connect$/, // pg-pool connectionTimeoutMillis
  /^Connection terminated/, // pg: unexpectedly, due to connection timeout
];

/** Prisma's driver-adapter error kinds for the same. */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  kind?: unknown;
}

/**
 * `error` and what it wraps (`cause`, `originalError`, graphql-js's `thrownValue` for
 * something thrown that it did not take for an Error, or the driver-adapter error a Prisma
 * raw query's P2010 carries in `meta`).
 */
function* errorChain(error: unknown): Generator<ErrorFields & object> {
  let e: unknown = error;
  for (let depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    yield e as ErrorFields;
    const next = e as { cause?: unknown; originalError?: unknown; thrownValue?: unknown; meta?: { driverAdapterError?: unknown } };
    e = next.cause ?? next.originalError ?? next.thrownValue ?? next.meta?.driverAdapterError;
  }
}

/** Whether `error`, or anything it wraps, is a dependency outage. */
export function isDependencyOutage(error: unknown): boolean {
  for (const e of errorChain(error)) {
    const { name, code, message, kind } = e;
    if (e instanceof DependencyUnavailableError || name === "PrismaClientInitializationError" || name === "MaxRetriesPerRequestError") return true;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || POSTGRES_STATES.test(code) || PRISMA_CODES.has(code))) return true;
    if (typeof message === "string" && DRIVER_MESSAGES.some((m) => m.test(message))) return true;
    if (typeof kind === "string" && ADAPTER_KINDS.has(kind)) return true;
  }
  return false;
}

/** Timeouts among outages: nothing answered in time (a partition, an overloaded server). */
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "57014", "P1002", "P1008", "P2024"]);

/**
 * Whether `error` is an outage where nothing answered in time, not one that answered at
 * once (a refused or reset connection): what waits behind it would wait as long again.
 */
export function isDependencyTimeout(error: unknown): boolean {
  if (!isDependencyOutage(error)) return false;
  for (const { code, message, kind } of errorChain(error)) {
    if (typeof code === "string" && TIMEOUT_CODES.has(code)) return true;
    if (kind === "SocketTimeout") return true;
    if (typeof message === "string" && /timed? ?out|timeout/i.test(message)) return true;
  }
  return false;
}
