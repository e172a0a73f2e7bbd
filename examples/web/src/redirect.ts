import type { MfaMethod } from "./gql/graphql";

/**
 * What the magic-link confirm page hands back when it sends this device to the app
 * (`redirectUrl#access_token=…&refresh_token=…&state=…` or `#mfa_token=…&mfa_methods=…&state=…`),
 * or "refused" when the fragment does not carry the state this browser stored before asking.
 */
export type RedirectResult =
  | { kind: "tokens"; refreshToken: string }
  | { kind: "mfa"; mfaToken: string; mfaMethods: MfaMethod[] }
  | { kind: "refused" };

/**
 * Where the state waits. localStorage, not sessionStorage: the email's link usually opens
 * in a new tab, and each tab has a sessionStorage of its own.
 */
const STATE_KEY = "graphql-auth-gateway:magic-link-state";

/**
 * A fresh random value for `requestMagicLink(state:)`, stored before asking. Only a
 * redirect that brings it back signs this browser in: anyone can send a browser to
 * `/#refresh_token=<their own>` (login CSRF), but nobody else knows this value.
 */
export function newLinkState(storage: Pick<Storage, "setItem"> = localStorage): string {
  const state = randomState();
  storage.setItem(STATE_KEY, state);
  return state;
}

/** 24 random bytes, base64url: the `state` a redirect back here must bring (magic links, social sign-in). */
export function randomState(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Once the request can no longer redirect here (CONFIRMED on this device, DENIED, EXPIRED).
 * Not on CONSUMED: that may be this browser's other tab, whose redirect still needs it.
 */
export function forgetLinkState(storage: Pick<Storage, "removeItem"> = localStorage): void {
  storage.removeItem(STATE_KEY);
}

/**
 * The redirect's result from a URL fragment, checked against the state this browser
 * stored (null: none); null when the fragment is not a redirect at all.
 */
export function readRedirect(hash: string, expectedState: string | null): RedirectResult | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  if (!params.has("refresh_token") && !params.has("mfa_token")) return null;
  if (!expectedState || params.get("state") !== expectedState) return { kind: "refused" };

  const mfaToken = params.get("mfa_token");
  if (mfaToken) {
    const methods = (params.get("mfa_methods") ?? "").split(",").filter(Boolean) as MfaMethod[];
    return { kind: "mfa", mfaToken, mfaMethods: methods };
  }
  // The access token beside it is not needed: swapping the refresh token brings a fresh one.
  return { kind: "tokens", refreshToken: params.get("refresh_token") ?? "" };
}

/**
 * Reads the fragment once and removes it from the address bar and history at once, so
 * the tokens are not left in the URL (bookmarks, screenshots, the back button). An
 * accepted state is used up; a refused redirect leaves it for the link this browser asked for.
 */
export function takeRedirectResult(storage: Storage = localStorage): RedirectResult | null {
  const result = readRedirect(location.hash, storage.getItem(STATE_KEY));
  if (!result) return null;
  history.replaceState(history.state, "", location.pathname + location.search);
  if (result.kind !== "refused") storage.removeItem(STATE_KEY);
  return result;
}
