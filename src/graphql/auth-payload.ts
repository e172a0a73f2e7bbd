import type { UserRecord } from "../core/ports";
import type { AuthResult } from "../sessions/session.service";
import { AuthStatus, MfaMethodEnum, type AuthPayload } from "./types";

/** Marks a user object as seen by its owner (just signed in), so private fields show. */
export const OWNER_VIEW = Symbol("ownerView");
export type OwnedUser = UserRecord & { [OWNER_VIEW]?: true };

export function toAuthPayload(result: AuthResult): AuthPayload {
  if (result.status === "MFA_REQUIRED") {
    // No user details before the second factor.
    return {
      status: AuthStatus.MFA_REQUIRED,
      mfaToken: result.mfaToken,
      mfaMethods: result.mfaMethods.map((m) => MfaMethodEnum[m]),
      tokens: null,
      user: null,
      isNewUser: result.isNewUser,
    };
  }
  const user: OwnedUser = { ...result.user, [OWNER_VIEW]: true };
  return { status: AuthStatus.AUTHENTICATED, tokens: result.tokens, mfaMethods: [], user, isNewUser: result.isNewUser };
}
