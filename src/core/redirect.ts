import { badInput } from "./errors";

/** The longest `state` a client may have a browser flow echo back (magic links, social sign-in). */
export const MAX_CLIENT_STATE_LENGTH = 256;

/** Where a browser flow may end: REDIRECT_URLS exactly when set, else any URL on ALLOWED_ORIGINS. */
export interface RedirectPolicy {
  allowedOrigins: readonly string[];
  /** Normalised absolute URLs; empty: origin matching only. */
  redirectUrls: readonly string[];
}

/**
 * An absolute URL the policy allows, normalised; BAD_USER_INPUT on redirectUrl otherwise.
 * With REDIRECT_URLS the whole URL must be one of them (RFC 9700 §4.1.3: exact matching):
 * a code or tokens sent to another page of an allowed origin could leak through it (an
 * open redirect, third-party scripts, logs).
 */
export function checkRedirectUrl(raw: string, policy: RedirectPolicy): string {
  if (!URL.canParse(raw)) throw badInput("redirectUrl", "Give an absolute URL.");
  const url = new URL(raw);
  const allowed = policy.redirectUrls.length ? policy.redirectUrls.includes(url.toString()) : policy.allowedOrigins.includes(url.origin);
  if (!allowed) throw badInput("redirectUrl", "This redirect address is not allowed.");
  return url.toString();
}

/** A client's `state`, echoed back verbatim: so only its size and control characters are checked. */
export function checkClientState(state: string): string {
  if (state.length > MAX_CLIENT_STATE_LENGTH) throw badInput("state", `At most ${MAX_CLIENT_STATE_LENGTH} characters.`);
  if (/[\u0000-\u001f\u007f]/.test(state)) throw badInput("state", "No control characters.");
  return state;
}
