import type { UserRecord } from "../core/ports";
import type { AuthResult } from "../core/auth";
import { AuthStatus, type AuthPayload, type User } from "./types";

/** Marks a user object as seen by its owner (just signed in), so private fields show. */
export const OWNER_VIEW = Symbol("ownerView");
export type OwnedUser = UserRecord & { [OWNER_VIEW]?: true };

/** The user as its owner sees it (email and phone shown), for answers to the user themself. */
export const ownerView = (user: UserRecord): OwnedUser => ({ ...user, [OWNER_VIEW]: true });

/** AUTHENTICATED without new tokens: the caller was signed in already (e.g. a verified contact). */
export function signedInPayload(user: UserRecord | null, tokens: AuthPayload["tokens"] = null): AuthPayload {
  return { status: AuthStatus.AUTHENTICATED, tokens, mfaToken: null, mfaMethods: [], user: user && (ownerView(user) as User), isNewUser: false };
}

export function toAuthPayload(result: AuthResult): AuthPayload {
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
  return { status: AuthStatus.AUTHENTICATED, tokens: result.tokens, mfaMethods: [], user: ownerView(result.user) as User, isNewUser: result.isNewUser };
}
