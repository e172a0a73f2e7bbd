import type { ErrorLike } from "@apollo/client";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import type { GraphQLFormattedError } from "graphql";
import { durationInWords } from "./time";

/*
 * The one place that turns the gateway's errors into sentences for people. The gateway
 * puts a stable `extensions.code` on every error (see the contract); this module maps
 * each code to a message, using the extensions it carries (attemptsRemaining, retryAfter).
 */

export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "INVALID_CODE"
  | "CODE_EXPIRED"
  | "TOO_MANY_ATTEMPTS"
  | "RATE_LIMITED"
  | "NOT_AVAILABLE"
  | "UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

/** Shown where a request could not reach the gateway at all (the banner says more). */
export const NETWORK_MESSAGE = "That didn't go through. Please try again when you're back online.";

/** Shown on the sign-in screen when tokens from a sign-in could not be kept (the swap into the cookie failed). */
export const SIGN_IN_FAILED_MESSAGE = "We couldn't finish signing you in. Please try again.";

/** Shown when a magic link's redirect arrives without the state this browser stored (another device asked, or someone else's link). */
export const LINK_NOT_ASKED_HERE_MESSAGE = "This sign-in link was not asked for in this browser, so it did not sign you in here. If you asked on another device, you're signed in there.";

/** Shown on the sign-in screen when a session was revoked or expired while in use. */
export const SESSION_ENDED_MESSAGE = "Your session has ended. Please sign in again.";

/** The first GraphQL error of an Apollo error, or of a raw `errors` array. */
function firstGraphQLError(error: ErrorLike | readonly GraphQLFormattedError[] | null | undefined): GraphQLFormattedError | undefined {
  if (Array.isArray(error)) return error[0];
  return CombinedGraphQLErrors.is(error) ? error.errors[0] : undefined;
}

export function errorCode(error: ErrorLike | readonly GraphQLFormattedError[] | null | undefined): string | undefined {
  const code = firstGraphQLError(error)?.extensions?.code;
  return typeof code === "string" ? code : undefined;
}

/** The gateway's own words for an error (for codes whose messages it writes for people on a given operation); undefined without one. */
export function gatewayMessage(error: unknown): string | undefined {
  return firstGraphQLError(error as ErrorLike)?.message;
}

/** Per-screen wording for a code, where the generic sentence would be vague. */
export type MessageOverrides = Partial<Record<ErrorCode, string>>;

/** A sentence for any error an operation can end with; null when there is none. */
export function describeError(error: ErrorLike | null | undefined, overrides: MessageOverrides = {}): string | null {
  if (!error) return null;
  const graphQLError = firstGraphQLError(error);
  if (!graphQLError) return NETWORK_MESSAGE;
  const code = errorCode(error) as ErrorCode | undefined;
  const extensions = graphQLError.extensions ?? {};
  if (code && overrides[code]) return overrides[code];
  switch (code) {
    case "BAD_USER_INPUT":
      // Written for people by the gateway ("Enter a valid email address.").
      return graphQLError.message;
    case "UNAUTHENTICATED":
      return "Please sign in again.";
    case "FORBIDDEN":
      return "You're not allowed to do that.";
    case "INVALID_CODE":
      return invalidCode(extensions.attemptsRemaining);
    case "CODE_EXPIRED":
      return "That code has expired. Ask for a new one.";
    case "TOO_MANY_ATTEMPTS":
      return "Too many wrong tries. Ask for a new code.";
    case "RATE_LIMITED":
      return typeof extensions.retryAfter === "number"
        ? `Too many tries. Please try again in ${durationInWords(extensions.retryAfter)}.`
        : "Too many tries. Please try again later.";
    case "NOT_AVAILABLE":
      return "That isn't available on this server.";
    case "UNAVAILABLE":
      // A dependency is down for a moment (a provider at social sign-in, the store).
      return "That can't be reached right now. Please try again in a moment.";
    case "INTERNAL_SERVER_ERROR":
      return "Something went wrong on our side. Please try again.";
    default:
      return "Something went wrong. Please try again.";
  }
}

function invalidCode(attemptsRemaining: unknown): string {
  if (typeof attemptsRemaining !== "number") return "That code isn't right.";
  if (attemptsRemaining <= 0) return "That code isn't right. No tries left: ask for a new code.";
  return `That code isn't right. ${attemptsRemaining} ${attemptsRemaining === 1 ? "try" : "tries"} left.`;
}

/** Shown when the person closed the browser's passkey prompt, or it timed out (the browser does not say which). */
export const PASSKEY_CANCELLED_MESSAGE = "The passkey request was cancelled or timed out. Try again when you're ready.";

/**
 * A sentence for a passkey step that failed: in the browser (a DOMException from
 * navigator.credentials) or at the gateway (as describeError). Null for an AbortError: the
 * app aborted the request itself (autofill stopped when the screen went away).
 */
export function describePasskeyError(error: unknown, overrides: MessageOverrides = {}): string | null {
  if (!error) return null;
  if (error instanceof DOMException) {
    switch (error.name) {
      case "AbortError":
        return null;
      case "NotAllowedError":
        return PASSKEY_CANCELLED_MESSAGE;
      case "InvalidStateError":
        // create() with excludeCredentials: this authenticator holds one of the account's passkeys.
        return "This device already has a passkey for your account.";
      case "NotSupportedError":
        return "This browser or device has no passkey it can use here.";
      case "SecurityError":
        return "Passkeys can't be used on this web address.";
      default:
        return "Your browser couldn't use a passkey. Please try again.";
    }
  }
  return describeError(error as ErrorLike, overrides);
}
