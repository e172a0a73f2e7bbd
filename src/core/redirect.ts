import { badInput } from "./errors";

/** The longest `state` a client may have a browser flow echo back (magic links, social sign-in). */
export const MAX_CLIENT_STATE_LENGTH = 256;

/** An absolute URL on one of `allowedOrigins`, normalised; BAD_USER_INPUT on redirectUrl otherwise. */
export function checkRedirectUrl(raw: string, allowedOrigins: readonly string[]): string {
  if (!URL.canParse(raw)) throw badInput("redirectUrl", "Give an absolute URL.");
  const url = new URL(raw);
  if (!allowedOrigins.includes(url.origin)) throw badInput("redirectUrl", "This redirect address is not allowed.");
  return url.toString();
}

/** A client's `state`, echoed back verbatim: so only its size and control characters are checked. */
export function checkClientState(state: string): string {
  if (state.length > MAX_CLIENT_STATE_LENGTH) throw badInput("state", `At most ${MAX_CLIENT_STATE_LENGTH} characters.`);
  if (/[\u0000-\u001f\u007f]/.test(state)) throw badInput("state", "No control characters.");
  return state;
}
