import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ArgumentValidationError, AuthenticationError, AuthorizationError } from "type-graphql";
import { AuthError, ERROR_CODES, unavailable, type ErrorCode } from "../core/errors";
import { isDependencyOutage } from "../core/outage";
import type { Logger } from "pino";

/** Maps an error to the contract's code, or null when it is unexpected (a bug, an outage). */
export function contractError(error: unknown): AuthError | null {
  const original = rootCause(error);
  if (original instanceof AuthError) return original;
  if (original instanceof AuthenticationError) return new AuthError("UNAUTHENTICATED");
  if (original instanceof AuthorizationError) return new AuthError("FORBIDDEN");
  if (original instanceof ArgumentValidationError) return new AuthError("BAD_USER_INPUT", original.message);
  // Masked like any failure, but retryable: the client may try again in a moment.
  if (isDependencyOutage(original)) return unavailable();
  return null;
}

/**
 * Every error a client sees goes through here. Domain errors keep their code and message;
 * errors graphql-js raised itself (syntax, validation, variable types) keep theirs; anything
 * else is masked, in every environment: no stack, no SQL, no secrets.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const { locations, path } = formatted;
  const known = contractError(error);
  if (known) {
    const { field, attemptsRemaining, retryAfter, reason } = known.details;
    return {
      message: known.message,
      locations,
      path,
      extensions: { code: known.code, ...(field && { field }), ...(attemptsRemaining !== undefined && { attemptsRemaining }), ...(retryAfter !== undefined && { retryAfter }), ...(reason && { reason }) },
    };
  }
  const raised = raisedByGraphql(error);
  const raisedCode = raised?.extensions.code ?? formatted.extensions?.code;
  if (raised && typeof raisedCode === "string" && raisedCode !== "INTERNAL_SERVER_ERROR") {
    return { message: withoutValues(formatted.message), locations, path, extensions: { code: raisedCode } };
  }
  // Apollo refuses some requests with a 4xx status but no code (a persisted query's wrong
  // version or hash): the client's mistake, said as Apollo says others (BAD_REQUEST).
  if (raised && isClientStatus(raised.extensions.http)) {
    return { message: formatted.message, locations, path, extensions: { code: "BAD_REQUEST" } };
  }
  const code: ErrorCode = "INTERNAL_SERVER_ERROR";
  return { message: ERROR_CODES[code], locations, path, extensions: { code } };
}

const isClientStatus = (http: unknown): boolean => {
  const status = (http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
};

/** Production: names from the schema are not offered to strangers ("Did you mean …?"). */
export function withoutSuggestions(formatted: GraphQLFormattedError): GraphQLFormattedError {
  return { ...formatted, message: formatted.message.replace(/ ?Did you mean .*\?$/s, "") };
}

/**
 * The cause worth an incident: an error neither graphql-js (parsing, validation, coercion)
 * nor our services (AuthError and type-graphql's refusals) raised on purpose. Null for the
 * client's own mistakes, which are not logged as errors.
 */
export function unexpectedCause(error: unknown): unknown {
  if (contractError(error) || raisedByGraphql(error)) return null;
  return rootCause(error);
}

/**
 * graphql-js's coercion messages quote the variable's value (a password, say). Our own
 * coercion (variables.ts) never does; should one still come through, keep only its name.
 */
function withoutValues(message: string): string {
  // graphql-js: `got invalid value <value>…`; ours: `got invalid value[ at "<path>"]; <reason>`.
  const echoed = /^Variable "(\$\w+)" got invalid value (?!at ")/.exec(message);
  return echoed ? `Variable "${echoed[1]}" got an invalid value.` : message;
}

/**
 * The innermost error when graphql-js, Apollo or one of our validation rules raised it
 * (parsing, validation, coercion), i.e. with no foreign cause inside; otherwise null.
 */
function raisedByGraphql(error: unknown): GraphQLError | null {
  const cause = rootCause(error);
  return cause instanceof GraphQLError ? cause : null;
}

/** The error a resolver (or a subscription's stream) threw, under any GraphQLError wrapping. */
function rootCause(error: unknown): unknown {
  let e = error;
  while (e instanceof GraphQLError && e.originalError) e = e.originalError;
  return e;
}

/**
 * Unexpected errors are masked for the client; here they are logged whole, with the request
 * id. The client's own mistakes (syntax, validation, coercion, refusals) are no incident:
 * one line at debug, no stack (a request full of invalid fields once wrote 151 KB of log).
 */
export function logUnexpected(log: Logger, errors: readonly GraphQLError[], requestId: string | undefined): void {
  for (const error of errors) {
    // An outage is the operator's to fix, not a bug: warn, once per failed field.
    if (isDependencyOutage(error)) {
      log.warn({ err: error.originalError, requestId, path: error.path }, "dependency unavailable");
      continue;
    }
    const cause = unexpectedCause(error);
    if (cause) log.error({ err: cause, requestId, path: error.path }, "unexpected error");
    else log.debug({ requestId, code: error.extensions?.code, path: error.path }, "operation refused");
  }
}
