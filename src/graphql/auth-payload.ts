import type { UserRecord } from "../core/ports";
import type { AuthResult } from "../core/auth";
import type { GatewayContext } from "./context";
import { AuthStatus, type AuthPayload, type AuthTokens, type User } from "./types";

/** Marks a user object as seen by its owner (just signed in), so private fields show. */
export const OWNER_VIEW = Symbol("ownerView");
export type OwnedUser = UserRecord & { [OWNER_VIEW]?: true };

/** The user as its owner sees it (email and phone shown), for answers to the user themself. */
export const ownerView = (user: UserRecord): OwnedUser => ({ ...user, [OWNER_VIEW]: true });

/**
 * With the refresh cookie asked for (HTTP), the refresh token goes into it and the answer
 * carries "" instead. Called where tokens are issued, whatever the answer selects: a step-up
 * or a refresh retires the session's previous token, and a cookie still holding it would be
 * taken for reuse at the next refresh. Once per token ("" is never set).
 */
export function deliverRefreshToken(tokens: AuthTokens, ctx: Pick<GatewayContext, "refreshCookie">): AuthTokens {
  if (!ctx.refreshCookie || tokens.refreshToken === "") return tokens;
  ctx.refreshCookie.set(tokens.refreshToken);
  return { ...tokens, refreshToken: "" };
}

/**
 * AUTHENTICATED without new tokens (the caller was signed in already, e.g. a verified
 * contact), or with a step-up's, delivered already (deliverRefreshToken).
 */
export function signedInPayload(user: UserRecord | null, tokens: AuthPayload["tokens"] = null): AuthPayload {
  return { status: AuthStatus.AUTHENTICATED, tokens, mfaToken: null, mfaMethods: [], user: user && (ownerView(user) as User), isNewUser: false };
}

/** A sign-in's answer; with `ctx` (HTTP) its refresh token is delivered as the request asked (deliverRefreshToken). */
export function toAuthPayload(result: AuthResult, ctx?: Pick<GatewayContext, "refreshCookie">): AuthPayload {
  if (result.status === "MFA_REQUIRED") {
    // No user details before the second factor.
    return {
      status: AuthStatus.MFA_REQUIRED,
      mfaToken: result.mfaToken,
      mfaMethods: result.mfaMethods,
      tokens: null,
      user: null,
      isNewUser: result.isNewUser,
    };
  }
  const tokens = ctx ? deliverRefreshToken(result.tokens, ctx) : result.tokens;
  return { status: AuthStatus.AUTHENTICATED, tokens, mfaMethods: [], user: ownerView(result.user) as User, isNewUser: result.isNewUser };
}
