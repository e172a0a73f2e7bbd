/**
 * Why a send failed, in the terms the queue decides on: try again or give up.
 * The message is the audit `reason`, so it is built from codes and statuses only: never
 * the message text, the one-time code, or a provider's wording (which may quote the address).
 * The provider's own error stays in `cause` for the logs.
 */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  /** The provider asked to wait this long before the next try (HTTP Retry-After). */
  readonly retryAfterMs?: number;
  /** HTTP status or SMTP reply code, when the provider answered at all. */
  readonly status?: number;

  constructor(reason: string, options: { retryable: boolean; retryAfterMs?: number; status?: number; cause?: unknown }) {
    super(reason, { cause: options.cause });
    this.name = "DeliveryError";
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }

  get reason(): string {
    return this.message;
  }
}

/** Socket-level failures worth another try: the provider may answer next time. */
const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED", // axios' request timeout
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ENOTFOUND", // resolvers fail transiently too; the attempt limit bounds the cost
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** A DeliveryError for an error thrown below HTTP/SMTP, or null when it is not one. */
export function networkDeliveryError(error: unknown): DeliveryError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !TRANSIENT_NETWORK_CODES.has(code)) return null;
  const what = code === "ECONNABORTED" || code.includes("TIMEDOUT") || code.includes("TIMEOUT") ? "timeout" : "network error";
  return new DeliveryError(`${what} (${code})`, { retryable: true, cause: error });
}

/**
 * An HTTP error answer: 408, 429 and 5xx may pass, any other 4xx is the request's own
 * fault and will fail the same way again.
 */
export function httpDeliveryError(
  status: number,
  options: { reason?: string; retryAfter?: string | null; cause?: unknown; now?: number } = {},
): DeliveryError {
  const retryable = status === 408 || status === 429 || status >= 500;
  return new DeliveryError(options.reason ?? `HTTP ${status}`, {
    retryable,
    status,
    retryAfterMs: retryable ? parseRetryAfter(options.retryAfter, options.now) : undefined,
    cause: options.cause,
  });
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3); ms from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP date format names the month; Date.parse alone would take "-1" as a year.
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Anything a sender threw, as a DeliveryError: unknown failures get another try. */
export function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  return (
    networkDeliveryError(error) ??
    new DeliveryError(`unexpected error (${error instanceof Error ? error.name : typeof error})`, { retryable: true, cause: error })
  );
}
