import type { MfaMethod } from "./auth-method";
import type { Aal, UserRecord } from "./ports";

/** What a sign-in produces and who is signed in: shared by the services and the GraphQL layer. */

/** The signed-in caller, from a verified access token of a live session. */
export interface Principal {
  userId: string;
  sessionId: string;
  aal: Aal;
  /** Shared with the verified token's cached claims: never changed in place. */
  amr: readonly string[];
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
}

export type AuthResult =
  | { status: "AUTHENTICATED"; tokens: IssuedTokens; user: UserRecord; mfaMethods: []; isNewUser: boolean }
  | { status: "MFA_REQUIRED"; mfaToken: string; mfaMethods: MfaMethod[]; isNewUser: boolean };

/**
 * The refresh token as an httpOnly cookie, for one HTTP request whose client asked for it.
 * Page scripts never see the token: replies carry `refreshToken: ""` and the cookie instead.
 */
export interface RefreshCookie {
  read(): string | undefined;
  set(token: string): void;
  clear(): void;
}
