/**
 * The one catalogue of error codes clients may rely on (contract README, "Errors").
 * Services throw `AuthError`; `graphql/format-error.ts` turns it into `extensions.code`
 * and masks everything else.
 */
export const ERROR_CODES = {
  BAD_USER_INPUT: "The input is not valid.",
  UNAUTHENTICATED: "You need to sign in.",
  FORBIDDEN: "You are not allowed to do that.",
  INVALID_CODE: "That code is not valid.",
  CODE_EXPIRED: "That code has expired. Ask for a new one.",
  TOO_MANY_ATTEMPTS: "Too many attempts. Ask for a new code.",
  RATE_LIMITED: "Too many requests. Try again later.",
  /** Addition to the contract: a method this gateway does not offer (not built yet, or turned off). */
  NOT_AVAILABLE: "This sign-in method is not available.",
  /**
   * Addition to the contract: a dependency (Redis, Postgres) did not answer in time or is
   * down; nothing was done that needs it. Retryable, with `retryAfter`.
   */
  UNAVAILABLE: "The service is unavailable for a moment. Try again shortly.",
  INTERNAL_SERVER_ERROR: "Something went wrong on our side.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Extra fields the contract allows next to `code`. */
export interface ErrorDetails {
  /** The input field at fault, for BAD_USER_INPUT. */
  field?: string;
  attemptsRemaining?: number;
  /** Seconds, for RATE_LIMITED and UNAVAILABLE. */
  retryAfter?: number;
  /**
   * Addition to the contract: why UNAUTHENTICATED, where a client acts on it. Only
   * "NO_REFRESH_TOKEN" so far: refreshTokens got neither an argument nor a cookie (a browser
   * with no session), as opposed to a token that was refused (a session that ended).
   */
  reason?: "NO_REFRESH_TOKEN";
}

export class AuthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = "AuthError";
  }
}

export const badInput = (field: string, message: string) => new AuthError("BAD_USER_INPUT", message, { field });

/** RATE_LIMITED with `retryAfter` in whole seconds (at least 1) from a window's remaining ms. */
export const rateLimited = (resetInMs: number) => new AuthError("RATE_LIMITED", undefined, { retryAfter: Math.max(1, Math.ceil(resetInMs / 1000)) });

/** How long a client is asked to wait after UNAVAILABLE: a few command timeouts. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** UNAVAILABLE, for a dependency outage (core/outage.ts recognises one). */
export const unavailable = () => new AuthError("UNAVAILABLE", undefined, { retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS });

/** The single answer for wrong email, wrong password and unknown account alike. */
export const invalidCredentials = () => new AuthError("UNAUTHENTICATED", "Invalid email or password.");

/** The caller's session ended (revoked, e.g. by an account claim) while the request ran. */
export const sessionEnded = () => new AuthError("UNAUTHENTICATED", "This session has ended. Sign in again.");
