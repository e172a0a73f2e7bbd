import { print, type GraphQLFormattedError } from "graphql";
import { useSyncExternalStore } from "react";
import { errorCode, SESSION_ENDED_MESSAGE } from "./errors";
import type { RefreshMutation, TokensFragment } from "./gql/graphql";
import { trackedFetch } from "./network";
import { RefreshDocument } from "./operations";

/*
 * The session, outside React. The access token lives in this module's memory only (never
 * localStorage, sessionStorage or a page-readable cookie). The refresh token lives in an
 * httpOnly cookie the gateway sets: every request asks for that with the header below, and
 * any refresh token the page does get to see is swapped into the cookie at once.
 */

/** Sent on every HTTP GraphQL request: the gateway then keeps refresh tokens in a cookie. */
export const COOKIE_DELIVERY_HEADERS = { "X-Refresh-Token-Delivery": "cookie" } as const;

export type SessionState =
  | { status: "starting" }
  | { status: "signedOut"; notice?: string }
  | { status: "signedIn" };

/** The gateway refused to refresh (UNAUTHENTICATED): the session is over. */
export class RefreshRejected extends Error {
  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(errors[0]?.message ?? "Refresh refused");
    this.name = "RefreshRejected";
  }
}

let state: SessionState = { status: "starting" };
let accessToken: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
/** The next restore attempt while the gateway is unreachable: one at a time. */
let restoreTimer: ReturnType<typeof setTimeout> | undefined;
/** The refresh in flight: one at a time, since reusing a refresh token revokes the session. */
let inFlight: Promise<void> | null = null;
/** Bumped when the session is dropped, so a refresh that was already on its way is ignored. */
let generation = 0;
const listeners = new Set<() => void>();

function setState(next: SessionState): void {
  state = next;
  listeners.forEach((listener) => listener());
}

export function useSession(): SessionState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}

export function getAccessToken(): string | null {
  return accessToken;
}

/**
 * Calls `refreshTokens` straight through fetch, outside Apollo: it must never go through
 * the retry-on-UNAUTHENTICATED link, which itself calls this. Without `refreshToken` the
 * gateway reads the cookie; with one, it rotates that token into the cookie.
 */
async function requestRefresh(refreshToken?: string): Promise<TokensFragment> {
  // Tabs share the cookie: two refreshing at once would present one token twice, which the
  // gateway treats as theft and ends the session. A Web Lock makes the tabs take turns,
  // and each turn sends the cookie as the previous one left it.
  if (typeof navigator !== "undefined" && navigator.locks) {
    return navigator.locks.request("graphql-auth-gateway:refresh", () => sendRefresh(refreshToken));
  }
  return sendRefresh(refreshToken);
}

async function sendRefresh(refreshToken?: string): Promise<TokensFragment> {
  const response = await trackedFetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...COOKIE_DELIVERY_HEADERS },
    body: JSON.stringify({ query: print(RefreshDocument), variables: { refreshToken } }),
  });
  const body = (await response.json()) as { data?: RefreshMutation | null; errors?: GraphQLFormattedError[] };
  if (body.data?.refreshTokens) return body.data.refreshTokens;
  const errors = body.errors ?? [];
  // A hiccup on the server's side says nothing about the session: try again later.
  const code = errorCode(errors);
  if (code === "INTERNAL_SERVER_ERROR" || code === "RATE_LIMITED") throw new Error(errors[0].message);
  throw new RefreshRejected(errors);
}

function keepTokens(tokens: Pick<TokensFragment, "accessToken" | "expiresIn">): void {
  accessToken = tokens.accessToken;
  clearTimeout(refreshTimer);
  // Silently, at 80% of the access token's life.
  refreshTimer = setTimeout(silentRefresh, tokens.expiresIn * 800);
  if (state.status !== "signedIn") setState({ status: "signedIn" });
}

/**
 * Serialises refreshes. A cookie refresh joins the one in flight (whose result is just as
 * fresh); a swap of a given token waits for it, then runs.
 */
function refresh(refreshToken?: string): Promise<void> {
  if (inFlight && refreshToken === undefined) return inFlight;
  const started = generation;
  const run = (inFlight ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => requestRefresh(refreshToken))
    .then((tokens) => {
      if (generation === started) keepTokens(tokens);
    });
  inFlight = run;
  const done = () => {
    if (inFlight === run) inFlight = null;
  };
  run.then(done, done);
  return run;
}

async function silentRefresh(): Promise<void> {
  try {
    await refresh();
  } catch (error) {
    if (error instanceof RefreshRejected) endSession();
    // Offline for now: try again soon (the access token may still be good).
    else refreshTimer = setTimeout(silentRefresh, 15_000);
  }
}

/** On start: a reload keeps you signed in when the refresh cookie still works. */
export async function restoreSession(retryInMs = 2_000): Promise<void> {
  try {
    await refresh();
  } catch (error) {
    // A cookie the gateway refused is a session that ended while the app was closed
    // (revoked elsewhere, or expired): say so. No cookie at all, or no network (the banner
    // says so): just sign in afresh.
    if (error instanceof RefreshRejected && error.errors[0]?.extensions?.reason !== "NO_REFRESH_TOKEN") {
      if (state.status !== "signedIn") setState({ status: "signedOut", notice: SESSION_ENDED_MESSAGE });
    } else if (state.status === "starting") setState({ status: "signedOut" });
    // Unreachable rather than refused: the cookie may still hold a session. Try again, less
    // and less often, until the gateway answers or someone signs in.
    if (!(error instanceof RefreshRejected)) {
      clearTimeout(restoreTimer);
      restoreTimer = setTimeout(() => {
        if (state.status !== "signedIn") void restoreSession(Math.min(retryInMs * 2, 60_000));
      }, retryInMs);
    }
  }
}

/**
 * After a request was refused with UNAUTHENTICATED: refreshes, unless the token it used
 * was already replaced meanwhile (then retrying is enough). Rejects when refreshing fails.
 */
export function renewAfterRejection(usedAccessToken: string): Promise<void> {
  if (accessToken !== null && accessToken !== usedAccessToken) return Promise.resolve();
  return refresh();
}

/**
 * Tokens from a sign-in. With cookie delivery their refreshToken is "" (it is in the
 * cookie already); a real one (the magic-link event, the confirm page's redirect) is
 * swapped into the cookie at once and forgotten.
 */
export async function signIn(tokens: TokensFragment): Promise<void> {
  if (tokens.refreshToken) return signInWithRefreshToken(tokens.refreshToken);
  keepTokens(tokens);
  otherTabs?.postMessage("signedIn");
}

/** A refresh token the page was handed (a redirect, an event): into the cookie, then forgotten. */
export async function signInWithRefreshToken(refreshToken: string): Promise<void> {
  await refresh(refreshToken);
  otherTabs?.postMessage("signedIn");
}

/** The session is over on the server (revoked, expired): back to sign-in, with a notice. */
export function endSession(notice = SESSION_ENDED_MESSAGE): void {
  forget({ status: "signedOut", notice });
}

/** A notice on the sign-in screen, unless a session is (still) there. */
export function noticeWhenSignedOut(notice: string): void {
  if (state.status !== "signedIn") setState({ status: "signedOut", notice });
}

/** Signed out on purpose (after logout): back to sign-in, no notice. */
export function forgetSession(): void {
  forget({ status: "signedOut" });
  otherTabs?.postMessage("signedOut");
}

/**
 * The app's other tabs share the cookie, so a sign-in or a sign-out in one is one in all:
 * a tab that hears "signedIn" restores from the cookie; "signedOut" drops its access token.
 */
const otherTabs = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("graphql-auth-gateway:session");
otherTabs?.addEventListener("message", (event: MessageEvent) => {
  if (event.data === "signedOut" && state.status === "signedIn") forget({ status: "signedOut" });
  if (event.data === "signedIn" && state.status !== "signedIn") void restoreSession();
});

function forget(next: SessionState): void {
  generation++;
  accessToken = null;
  clearTimeout(refreshTimer);
  setState(next);
}
