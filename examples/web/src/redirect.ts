import type { MfaMethod } from "./gql/graphql";

/**
 * What the magic-link confirm page hands back when it sends this device to the app
 * (`redirectUrl#access_token=…&refresh_token=…` or `#mfa_token=…&mfa_methods=…`).
 */
export type RedirectResult =
  | { kind: "tokens"; refreshToken: string }
  | { kind: "mfa"; mfaToken: string; mfaMethods: MfaMethod[] };

/**
 * Reads the fragment once and removes it from the address bar and history at once, so
 * the tokens are not left in the URL (bookmarks, screenshots, the back button).
 */
export function takeRedirectResult(): RedirectResult | null {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has("refresh_token") && !params.has("mfa_token")) return null;
  history.replaceState(history.state, "", location.pathname + location.search);

  const mfaToken = params.get("mfa_token");
  if (mfaToken) {
    const methods = (params.get("mfa_methods") ?? "").split(",").filter(Boolean) as MfaMethod[];
    return { kind: "mfa", mfaToken, mfaMethods: methods };
  }
  // The access token beside it is not needed: swapping the refresh token brings a fresh one.
  return { kind: "tokens", refreshToken: params.get("refresh_token") ?? "" };
}
