import { randomState } from "./redirect";

/*
 * Social sign-in ("Continue with …") and linking an identity, around the browser's trip to
 * the provider: the state this tab stores before leaving, and what the gateway's callback
 * hands back on the app's callback route (`?code=&state=`, `?link_code=&state=`, or
 * `?error=&state=`). Nothing here talks to the gateway; the screens do (SocialCallback
 * trades a code with completeSocialSignIn, Identities a link code with completeLinkIdentity).
 */

/** The app's route the gateway sends the browser back to (it must be on ALLOWED_ORIGINS). */
const SOCIAL_CALLBACK_PATH = "/sign-in/callback";

export type SocialPurpose = "signIn" | "link";

/** What this tab remembers while it is away at the provider. */
export interface PendingSocial {
  state: string;
  purpose: SocialPurpose;
  provider: string;
  providerName: string;
}

export type SocialCallback =
  | { kind: "code"; code: string; providerName: string }
  /** Back from linkIdentity: the one-time code completeLinkIdentity links with (this session only). */
  | { kind: "linkCode"; code: string; providerName: string }
  | { kind: "failed"; purpose: SocialPurpose; message: string };

/**
 * sessionStorage, not localStorage as for magic links: the provider sends the browser back
 * to the very tab that left, and two tabs signing in at once then keep a state each.
 */
const PENDING_KEY = "graphql-auth-gateway:social-state";

/** The callback route's absolute URL, for startSocialSignIn/linkIdentity's redirectUrl. */
export function socialRedirectUrl(origin: string = location.origin): string {
  return origin + SOCIAL_CALLBACK_PATH;
}

/**
 * A fresh state for startSocialSignIn/linkIdentity, stored before leaving. Only a callback
 * that brings it back counts: anyone can send a browser to `/sign-in/callback?code=<their own>`
 * (a login CSRF), but nobody else knows this value.
 */
export function beginSocial(purpose: SocialPurpose, provider: { id: string; name: string }, storage: Pick<Storage, "setItem"> = sessionStorage): string {
  const pending: PendingSocial = { state: randomState(), purpose, provider: provider.id, providerName: provider.name };
  storage.setItem(PENDING_KEY, JSON.stringify(pending));
  return pending.state;
}

/** The stored state, or null when there is none (or it is not ours). */
export function readPending(storage: Pick<Storage, "getItem"> = sessionStorage): PendingSocial | null {
  try {
    const value = JSON.parse(storage.getItem(PENDING_KEY) ?? "null") as Partial<PendingSocial> | null;
    if (value && typeof value.state === "string" && (value.purpose === "signIn" || value.purpose === "link") && typeof value.providerName === "string") {
      return value as PendingSocial;
    }
  } catch {
    // Not JSON: someone else's value under our key; it counts as none.
  }
  return null;
}

/**
 * The callback's result from its query string, checked against the stored state; null when
 * the query is not a callback at all. A state that does not match refuses everything, error
 * pages included: their words would otherwise be anyone's to put on this screen.
 */
export function readSocialCallback(search: string, pending: PendingSocial | null): SocialCallback | null {
  const params = new URLSearchParams(search);
  const code = params.get("code");
  const linkCode = params.get("link_code");
  const error = params.get("error");
  if (!code && !linkCode && !error) return null;

  const purpose = pending?.purpose ?? (linkCode ? "link" : "signIn");
  if (!pending || params.get("state") !== pending.state) return { kind: "failed", purpose, message: NOT_STARTED_HERE[purpose] };
  const name = pending.providerName;
  if (error) return { kind: "failed", purpose, message: providerErrorMessage(error, purpose, name) };
  if (code && purpose === "signIn") return { kind: "code", code, providerName: name };
  if (linkCode && purpose === "link") return { kind: "linkCode", code: linkCode, providerName: name };
  // A code where a link was asked for, or the other way round: not what this tab started.
  return { kind: "failed", purpose, message: NOT_STARTED_HERE[purpose] };
}

const NOT_STARTED_HERE: Record<SocialPurpose, string> = {
  signIn: "This sign-in was not started in this browser, so it did not sign you in. Please start again here.",
  link: "This link request was not started in this browser, so nothing was linked. Please start again here.",
};

/** A sentence for the `error` the gateway's callback put on the URL. */
export function providerErrorMessage(error: string, purpose: SocialPurpose, providerName: string): string {
  const doing = purpose === "signIn" ? `Signing in with ${providerName}` : `Linking ${providerName}`;
  switch (error) {
    case "access_denied":
      return purpose === "signIn"
        ? `You cancelled signing in with ${providerName} (or didn't allow it), so you're not signed in.`
        : `You cancelled linking ${providerName} (or didn't allow it), so nothing was linked.`;
    case "temporarily_unavailable":
      return `${providerName} can't be reached right now. Please try again in a moment.`;
    case "invalid_id_token":
      return `${providerName}'s answer could not be checked, so ${purpose === "signIn" ? "you're not signed in" : "nothing was linked"}. Please try again.`;
    case "identity_in_use":
      return `That ${providerName} account is already linked to another account here, so it was not linked.`;
    case "signup_disabled":
      return `There is no account here for that ${providerName} account, and new accounts can't be made this way. Sign in another way, then link ${providerName} on your account page.`;
    case "session_ended":
      return `${doing} needs you signed in: your session ended meanwhile. Please sign in and try again.`;
    default:
      // Only a code-like value is quoted: the URL is anyone's to write.
      return `${doing} didn't work${/^[a-z_]{1,40}$/.test(error) ? ` (${error})` : ""}. Please try again${purpose === "signIn" ? ", or sign in another way" : ""}.`;
  }
}

/**
 * On the callback route: reads the query once and removes it from the address bar and
 * history at once (the one-time code has no business in bookmarks or the back button).
 * A callback with this tab's state uses it up.
 */
export function takeSocialCallback(storage: Storage = sessionStorage): SocialCallback | null {
  if (location.pathname !== SOCIAL_CALLBACK_PATH) return null;
  const pending = readPending(storage);
  const search = location.search;
  const result = readSocialCallback(search, pending);
  history.replaceState(history.state, "", "/");
  // A refused callback leaves the state for the one this tab is still waiting for.
  if (pending && new URLSearchParams(search).get("state") === pending.state) storage.removeItem(PENDING_KEY);
  return result;
}

/**
 * What a link request came back with, for the account page: a link code to redeem there
 * (once signed in again: completeLinkIdentity needs the session that asked), or a failure to say once.
 */
export type LinkOutcome = { kind: "code"; code: string; providerName: string } | { kind: "failed"; message: string };
let linkOutcome: LinkOutcome | null = null;

export function keepLinkOutcome(outcome: SocialCallback): void {
  if (outcome.kind === "linkCode") linkOutcome = { kind: "code", code: outcome.code, providerName: outcome.providerName };
  else if (outcome.kind === "failed") linkOutcome = { kind: "failed", message: outcome.message };
}

export function peekLinkOutcome(): LinkOutcome | null {
  return linkOutcome;
}

export const linkedMessage = (providerName: string) => `${providerName} is linked: you can sign in with it now.`;

/** completeLinkIdentity's refusals in words (an identity linked elsewhere comes in the gateway's own). */
export const linkCodeErrors = (providerName: string) => ({
  INVALID_CODE: `This link request for ${providerName} expired or was used already, so nothing was linked. Please start again.`,
  UNAUTHENTICATED: `Linking ${providerName} needs the session that started it: it ended meanwhile. Please sign in and try again.`,
});

export function clearLinkOutcome(): void {
  linkOutcome = null;
}
