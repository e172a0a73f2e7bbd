import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient";
import type Response from "twilio/lib/http/response";

/** Where the SDK sends every REST call (Messages, Calls); the part we swap. */
export const TWILIO_API_ORIGIN = "https://api.twilio.com";

/**
 * An error answer from the Twilio API with what the SDK's RestException drops: the
 * Retry-After header. `code` is Twilio's error code (e.g. 21211 invalid 'To' number).
 */
export class TwilioApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    readonly retryAfter: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "TwilioApiError";
  }
}

export interface TwilioHttpClientOptions {
  /** TWILIO_API_BASE_URL: a Twilio-compatible endpoint, a proxy, a test double. */
  baseUrl?: string;
  /** Per request, connection included. */
  timeoutMs?: number;
}

/**
 * The SDK's own RequestClient (axios, keep-alive agent, basic auth), given to the client
 * as `httpClient`. BaseTwilio.request builds absolute `https://api.twilio.com/...` URIs and
 * hands them to `httpClient.request`, so this is the one place to point them elsewhere.
 * Error answers become TwilioApiError here, while the response headers are still at hand.
 */
export class TwilioHttpClient extends twilio.RequestClient {
  private readonly baseUrl?: string;

  constructor(options: TwilioHttpClientOptions = {}) {
    // autoRetry stays off: the SDK would wait out 429s inside the worker; the queue retries.
    super({ timeout: options.timeoutMs ?? 10_000 });
    this.baseUrl = options.baseUrl?.replace(/\/+$/, "");
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const response = await super.request<TData>({ ...opts, uri: this.rebase(opts.uri) });
    if (response.statusCode >= 400) throw apiError(response);
    return response;
  }

  /** `https://api.twilio.com/2010-04-01/...` → `${baseUrl}/2010-04-01/...`; other hosts unchanged. */
  rebase(uri: string): string {
    if (!this.baseUrl || (uri !== TWILIO_API_ORIGIN && !uri.startsWith(`${TWILIO_API_ORIGIN}/`))) return uri;
    return this.baseUrl + uri.slice(TWILIO_API_ORIGIN.length);
  }
}

function apiError(response: Response<unknown>): TwilioApiError {
  let body: unknown = response.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  const fields = (body ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof fields.code === "number" ? fields.code : undefined;
  const retryAfter = header(response.headers, "retry-after");
  const message = typeof fields.message === "string" ? fields.message : `HTTP ${response.statusCode}`;
  return new TwilioApiError(response.statusCode, code, retryAfter, message);
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== "object") return undefined;
  const value = (headers as Record<string, unknown>)[name];
  return Array.isArray(value) ? String(value[0]) : value === undefined || value === null ? undefined : String(value);
}
