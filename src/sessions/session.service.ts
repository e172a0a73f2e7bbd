import type { Authenticator, Factor, SecondFactorsFor } from "../core/auth-method";
import type { AuthResult, IssuedTokens, Principal } from "../core/auth";
import { AuthError, badInput } from "../core/errors";
import { isDependencyOutage } from "../core/outage";
import { noMetrics, type Aal, type AuditLog, type ClientInfo, type Clock, type KeyValueStore, type Metrics, type RefreshOutcome, type SessionRecord, type SessionRepo, type UserRecord } from "../core/ports";
import { revokedKey, type RevocationMarkers } from "./revocation-markers";
import { hashToken, newRefreshToken, type TokenService } from "./tokens";

export interface SessionServiceDeps {
  sessions: SessionRepo;
  tokens: TokenService;
  store: KeyValueStore;
  /** Writes revocations to the store, and keeps writing them through its outages. */
  markers: RevocationMarkers;
  audit: AuditLog;
  /** Counts refreshes by outcome (a rotation writes no audit row). */
  metrics?: Metrics;
  clock: Clock;
  refreshTtlSeconds: number;
  lifetimes: SessionLifetimes;
  /** Which second factors a sign-in needs: the methods declare them (core/auth-method secondFactorsFor). */
  secondFactors: SecondFactorsFor;
}

/** NIST SP 800-63B §4.2.3 (aal2: 12 h, or 30 min idle); settings SESSION_IDLE_TIMEOUT_SECONDS, AAL2_*. */
export interface SessionLifetimes {
  /** A session not refreshed for this long ends. */
  idleTimeoutSeconds: number;
  /** An aal2 session goes back to aal1 this long after its second factor was proven… */
  aal2MaxAgeSeconds: number;
  /** …or when it was not refreshed for this long. */
  aal2IdleSeconds: number;
}

type Aal2Lapse = "max_age" | "idle";

/** A verified, unused mfaToken: who passed which first factor. */
export interface MfaGrant {
  userId: string;
  amr: string[];
  /** What the first factor proved; the second factor must prove something else. */
  factors: Authenticator[];
  /** The token's id, recorded when it finishes a sign-in (single use). */
  jti: string;
  /** The user's credentialsVersion when the first factor was checked. */
  credentialsVersion: number;
  /** The token's expiry (epoch seconds): a grant stored beside a code ends with it. */
  expiresAt: number;
}

const usedMfaKey = (jti: string) => `mfa:used:${jti}`;
const mfaTokenNotValid = () => new AuthError("UNAUTHENTICATED", "The MFA step has expired or is not valid. Sign in again.");
const invalidRefresh = () => new AuthError("UNAUTHENTICATED", "The refresh token is not valid. Sign in again.");
const accountChanged = () => new AuthError("UNAUTHENTICATED", "The account changed while you were signing in. Sign in again.");
const idleEnded = () => new AuthError("UNAUTHENTICATED", "This session ended after a time without use. Sign in again.");

/**
 * How recent a sign-in must be to change the account without another proof (Kratos'
 * "privileged session"): a stolen, older session cannot take the account over.
 */
const RECENT_SIGN_IN_SECONDS = 15 * 60;

/** Why a session may not change the account's password, contacts or second factor. */
export type AccountChangeRefusal = "step_up_needed" | "sign_in_not_recent";

/** The answer to a second factor that proves what the first one did (same mailbox or phone). */
export const secondFactorMustDiffer = () =>
  badInput("channel", "The second factor must differ from the first: use your authenticator app, a recovery code, or another address of yours.");

/** The FORBIDDEN answer to a refusal; `action` completes "then …", e.g. "change your phone number". */
export function accountChangeForbidden(refusal: AccountChangeRefusal, action: string): AuthError {
  return refusal === "step_up_needed"
    ? new AuthError("FORBIDDEN", `Confirm with your authenticator app first (step-up), then ${action}.`)
    : new AuthError("FORBIDDEN", `Sign in again to ${action}: it needs a sign-in from the last ${RECENT_SIGN_IN_SECONDS / 60} minutes.`);
}

/**
 * Sessions are refresh-token families in Postgres. Access tokens are stateless JWTs, but
 * a revocation is also written to the store for one access-token lifetime, so a revoked
 * session's access tokens stop working on their next request, on every instance.
 */
export class SessionService {
  constructor(private readonly d: SessionServiceDeps) {}

  /**
   * Ends a first factor: a session, or MFA_REQUIRED with an mfaToken when the account has
   * a second factor. Every sign-in method calls this and nothing else to sign someone in.
   */
  async completeFirstFactor(user: UserRecord, factor: Factor, client: ClientInfo, isNewUser = false): Promise<AuthResult> {
    const factors = [factor.authenticator, ...(factor.alsoProves ?? [])];
    const mfaMethods = await this.d.secondFactors(user, factors);
    const amr = [factor.amr];
    if (mfaMethods.length > 0) {
      await this.d.audit.record({ type: "mfa.required", ok: true, userId: user.id, client, detail: { amr, factors } });
      return { status: "MFA_REQUIRED", mfaToken: this.d.tokens.signMfa({ userId: user.id, amr, factors, credentialsVersion: user.credentialsVersion }), mfaMethods, isNewUser };
    }
    return this.authenticated(user, user.credentialsVersion, "aal1", amr, client, isNewUser);
  }

  /** Who an unused mfaToken speaks for and which first factor they passed; UNAUTHENTICATED otherwise. */
  async resolveMfaToken(mfaToken: string): Promise<MfaGrant> {
    const claims = this.d.tokens.verifyMfa(mfaToken);
    if (!claims) throw mfaTokenNotValid();
    // Checked here too so that a used token is refused before any code is spent on it.
    if ((await this.d.store.get(usedMfaKey(claims.jti))) !== null) throw mfaTokenNotValid();
    return { userId: claims.sub, amr: claims.amr, factors: claims.factors, jti: claims.jti, credentialsVersion: claims.cv, expiresAt: claims.exp };
  }

  /**
   * Ends an MFA sign-in: an aal2 session whose amr lists both factors and `mfa` (RFC 8176).
   * The second factor must be another authenticator than the first (an email code after an
   * email code proves the mailbox twice), and each mfaToken finishes one sign-in only.
   */
  async completeSecondFactor(user: UserRecord, grant: MfaGrant, factor: Factor, client: ClientInfo): Promise<AuthResult> {
    if (user.id !== grant.userId) throw mfaTokenNotValid();
    // A code sent for the MFA step may outlive the mfaToken it was asked with.
    if (!(grant.expiresAt * 1000 > this.d.clock.now().getTime())) throw mfaTokenNotValid();
    if (grant.factors.includes(factor.authenticator)) {
      await this.d.audit.record({ type: "mfa.same_factor", ok: false, userId: user.id, client, detail: { factors: grant.factors, second: factor.authenticator } });
      throw secondFactorMustDiffer();
    }
    // Kept for the token's whole lifetime: the token has at most that long left.
    const first = await this.d.store.setIfAbsent(usedMfaKey(grant.jti), "1", this.d.tokens.mfaTtlSeconds * 1000);
    if (!first) throw mfaTokenNotValid();
    const amr = [...new Set([...grant.amr, factor.amr, "mfa"])];
    // The first factor's version: a claim since then leaves this sign-in nothing.
    return this.authenticated(user, grant.credentialsVersion, "aal2", amr, client, false, grant.amr);
  }

  /**
   * Ends a sign-in with one authenticator that is multi-factor by itself (a passkey with user
   * verification: a key held and a PIN or biometric): aal2 at once, amr [factor, "mfa"], and
   * no MFA_REQUIRED after it. When its aal2 lapses the session keeps the factor alone.
   */
  async completeMultiFactor(user: UserRecord, factor: Factor, client: ClientInfo): Promise<AuthResult> {
    return this.authenticated(user, user.credentialsVersion, "aal2", [factor.amr, "mfa"], client, false, [factor.amr]);
  }

  /**
   * A sign-in whose answer will never reach its device (the other half of a two-device
   * sign-in failed): its session ends now instead of waiting out its lifetime unused.
   */
  async abandon(result: AuthResult, reason: string): Promise<void> {
    if (result.status !== "AUTHENTICATED") return; // an mfaToken nobody holds signs nobody in
    const claims = this.d.tokens.verifyAccess(result.tokens.accessToken);
    if (claims) await this.revokeSession(claims.sid, reason);
  }

  /**
   * Ends these sessions, also when a transaction already marked them revoked in the
   * database (an account claim): their access tokens must stop on the next request too.
   */
  async revokeSessions(sessionIds: readonly string[], reason: string): Promise<void> {
    for (const id of sessionIds) await this.revokeSession(id, reason);
  }

  /**
   * Step-up: the caller's session proved a second factor. It becomes aal2 with the method
   * and `mfa` added to its amr, and gets new tokens (the old refresh token is retired).
   */
  async stepUp(principal: Principal, method: string, client: ClientInfo): Promise<IssuedTokens> {
    const session = await this.d.sessions.elevate(principal.sessionId, [method, "mfa"], this.d.clock.now());
    if (!session) throw new AuthError("UNAUTHENTICATED");
    // Recorded before the old refresh token is retired: after that nothing may fail the answer
    // (the client's cookie or store would hold a spent token, and its next refresh be reuse).
    await this.d.audit.record({ type: "session.stepped_up", ok: true, userId: session.userId, client, detail: { sessionId: session.id, amr: session.amr } });
    const refreshToken = newRefreshToken();
    await this.d.sessions.reissue(session.id, hashToken(refreshToken), this.d.clock.now());
    return this.issue(session, refreshToken);
  }

  /**
   * Starts a session for a user who has passed every factor required, checked while the
   * user's credentialsVersion was `credentialsVersion`.
   */
  private async authenticated(
    user: UserRecord,
    credentialsVersion: number,
    aal: Aal,
    amr: string[],
    client: ClientInfo,
    isNewUser = false,
    firstFactorAmr = amr,
  ): Promise<AuthResult> {
    const refreshToken = newRefreshToken();
    const now = this.d.clock.now();
    const session = await this.d.sessions.create({
      userId: user.id,
      aal,
      amr,
      firstFactorAmr,
      client,
      now,
      expiresAt: new Date(now.getTime() + this.d.refreshTtlSeconds * 1000),
      refreshTokenHash: hashToken(refreshToken),
      credentialsVersion,
    });
    if (!session) {
      // The account was claimed by its owner, its password changed or an app turned on while
      // this sign-in checked the old credentials.
      await this.d.audit.record({ type: "session.refused", ok: false, userId: user.id, client, detail: { reason: "credentials_changed", amr } });
      throw accountChanged();
    }
    // Its session.created event was stored with it (SessionRepo.create), past the audit
    // log's counter: counted here.
    (this.d.metrics ?? noMetrics).auditEvent({ type: "session.created", ok: true });
    return { status: "AUTHENTICATED", tokens: this.issue(session, refreshToken), user, mfaMethods: [], isNewUser };
  }

  /**
   * Rotates a refresh token. A token used twice revokes its whole session (theft signal); a
   * session unused for the idle timeout ends; an aal2 that lapsed comes back as aal1.
   */
  async refresh(refreshToken: string, client: ClientInfo): Promise<IssuedTokens> {
    const found = await this.d.sessions.findByRefreshTokenHash(hashToken(refreshToken));
    if (!found) {
      this.countRefresh("invalid");
      throw invalidRefresh();
    }
    const { session, tokenId } = found;
    const now = this.d.clock.now();
    if (session.revokedAt || session.expiresAt <= now) {
      this.countRefresh("invalid");
      throw invalidRefresh();
    }
    if (found.rotatedAt !== null) return this.refreshTokenReused(session, client);
    if (this.isIdle(session, now)) {
      this.countRefresh("idle_timeout");
      await this.revokeSession(session.id, "idle_timeout");
      await this.d.audit.record({ type: "session.idle_timeout", ok: false, userId: session.userId, client, detail: { sessionId: session.id, lastUsedAt: session.lastUsedAt.toISOString() } });
      throw idleEnded();
    }
    const lapse = this.aal2Lapse(session, now);
    const issuedAs = lapse ? { ...session, aal: "aal1" as const, amr: firstFactorAmrOf(session), aal2At: null } : session;
    if (lapse) {
      // Actions that need aal2 now ask for a step-up again. Recorded before the rotation: once
      // it commits, nothing may fail the answer (the client's token is spent, and a retry with
      // it would be taken for reuse); a rotation that then fails leaves a row a retry repeats.
      await this.d.audit.record({ type: "session.aal2_lapsed", ok: true, userId: session.userId, client, detail: { sessionId: session.id, reason: lapse } });
    }
    const next = newRefreshToken();
    const rotated = await this.d.sessions.rotate(tokenId, session.id, hashToken(next), client, now, lapse ? { amr: issuedAs.amr } : undefined);
    if (rotated === "reused") return this.refreshTokenReused(session, client);
    if (rotated === "ended") {
      this.countRefresh("invalid");
      throw invalidRefresh();
    }
    this.countRefresh("rotated");
    return this.issue(issuedAs, next);
  }

  private countRefresh(outcome: RefreshOutcome): void {
    (this.d.metrics ?? noMetrics).refreshed(outcome);
  }

  /** Not refreshed (nor signed in, nor stepped up) within the idle timeout. */
  private isIdle(session: SessionRecord, now: Date): boolean {
    return now.getTime() - session.lastUsedAt.getTime() >= this.d.lifetimes.idleTimeoutSeconds * 1000;
  }

  /** Why this aal2 session no longer counts as aal2, or null while it does (and for aal1). */
  private aal2Lapse(session: SessionRecord, now: Date): Aal2Lapse | null {
    if (session.aal !== "aal2") return null;
    // A session from before aal2At was recorded proved its second factor at sign-in at the latest.
    const provenAt = (session.aal2At ?? session.createdAt).getTime();
    if (now.getTime() - provenAt >= this.d.lifetimes.aal2MaxAgeSeconds * 1000) return "max_age";
    if (now.getTime() - session.lastUsedAt.getTime() >= this.d.lifetimes.aal2IdleSeconds * 1000) return "idle";
    return null;
  }

  /** A spent refresh token came back: someone holds a copy (theft signal), so the session ends. */
  private async refreshTokenReused(session: SessionRecord, client: ClientInfo): Promise<never> {
    this.countRefresh("reused");
    await this.revokeSession(session.id, "refresh_token_reuse");
    await this.d.audit.record({ type: "session.refresh_reuse", ok: false, userId: session.userId, client, detail: { sessionId: session.id } });
    throw invalidRefresh();
  }

  /** The caller from a bearer access token, or null (bad, expired or revoked). */
  async authenticate(accessToken: string): Promise<Principal | null> {
    const claims = this.d.tokens.verifyAccess(accessToken);
    if (!claims) return null;
    let marker: string | null;
    try {
      marker = await this.d.store.get(revokedKey(claims.sid));
    } catch (error) {
      // Another instance may revoke a session now and fail to write its marker.
      if (isDependencyOutage(error)) this.d.markers.storeFailed();
      throw error;
    }
    if (marker !== null) return null;
    // Until the markers are synced after a store failure, a revocation may lack one: ask Postgres.
    if (this.d.markers.pending) {
      const session = await this.d.sessions.findById(claims.sid);
      if (!session || session.revokedAt) return null;
    }
    return { userId: claims.sub, sessionId: claims.sid, aal: claims.aal, amr: claims.amr };
  }

  /** Live sessions as their next refresh will see them: idle ones are left out, lapsed aal2 shown as aal1. */
  async list(principal: Principal): Promise<Array<SessionRecord & { current: boolean }>> {
    const now = this.d.clock.now();
    const usedAfter = new Date(now.getTime() - this.d.lifetimes.idleTimeoutSeconds * 1000);
    const sessions = await this.d.sessions.listActive(principal.userId, now, usedAfter);
    return sessions.map((s) => ({
      ...s,
      ...(this.aal2Lapse(s, now) && { aal: "aal1" as const, amr: firstFactorAmrOf(s), aal2At: null }),
      current: s.id === principal.sessionId,
    }));
  }

  async logout(principal: Principal, client: ClientInfo): Promise<boolean> {
    await this.revokeSession(principal.sessionId, "logout");
    await this.d.audit.record({ type: "session.logout", ok: true, userId: principal.userId, client, detail: { sessionId: principal.sessionId } });
    return true;
  }

  /** Logout from the refresh cookie alone (a browser that lost its in-memory access token). */
  async logoutWithRefreshToken(refreshToken: string, client: ClientInfo): Promise<boolean> {
    const found = await this.d.sessions.findByRefreshTokenHash(hashToken(refreshToken));
    if (!found || found.session.revokedAt) throw invalidRefresh();
    const { session } = found;
    // A spent token is reuse here as at refresh: logging out with it must not hide the theft.
    if (found.rotatedAt !== null) return this.refreshTokenReused(session, client);
    return this.logout({ userId: session.userId, sessionId: session.id, aal: session.aal, amr: session.amr }, client);
  }

  /** Only the owner may end a session; someone else's id answers like an unknown one. */
  async revoke(principal: Principal, sessionId: string, client: ClientInfo): Promise<boolean> {
    const session = await this.d.sessions.findById(sessionId);
    if (!session || session.userId !== principal.userId || session.revokedAt) {
      throw new AuthError("BAD_USER_INPUT", "No such active session.", { field: "id" });
    }
    await this.revokeSession(session.id, "revoked_by_user");
    await this.d.audit.record({ type: "session.revoked", ok: true, userId: principal.userId, client, detail: { sessionId } });
    return true;
  }

  /**
   * May this session change `user`'s password, email or phone? With TOTP on, only an aal2
   * session whose aal2 has not lapsed; and unless the change is `proven` otherwise (the
   * current password), only one that signed in within RECENT_SIGN_IN_SECONDS (refreshes do not count).
   */
  async accountChangeRefusal(principal: Principal, user: UserRecord, proven = false): Promise<AccountChangeRefusal | null> {
    if (user.totpEnabled && principal.aal !== "aal2") return "step_up_needed";
    const session = await this.d.sessions.findById(principal.sessionId);
    if (!session || session.revokedAt) throw new AuthError("UNAUTHENTICATED");
    const now = this.d.clock.now();
    // The access token may still say aal2 for up to its lifetime after the aal2 lapsed.
    if (user.totpEnabled && (session.aal !== "aal2" || this.aal2Lapse(session, now))) return "step_up_needed";
    if (proven) return null;
    const age = now.getTime() - session.createdAt.getTime();
    return age > RECENT_SIGN_IN_SECONDS * 1000 ? "sign_in_not_recent" : null;
  }

  /**
   * FORBIDDEN, saying what to do first, unless this session may change `user`
   * (accountChangeRefusal); with `audit`, the refusal is recorded as that event with its reason.
   */
  async assertMayChangeAccount(
    principal: Principal,
    user: UserRecord,
    action: string,
    audit?: { type: string; client: ClientInfo; detail?: Record<string, unknown> },
  ): Promise<void> {
    const refusal = await this.accountChangeRefusal(principal, user);
    if (!refusal) return;
    if (audit) await this.d.audit.record({ type: audit.type, ok: false, userId: user.id, client: audit.client, detail: { ...audit.detail, reason: refusal } });
    throw accountChangeForbidden(refusal, action);
  }

  /** Ends every live session of the caller but the caller's own; how many it ended. */
  async revokeOthers(principal: Principal, reason: string): Promise<number> {
    const others = (await this.d.sessions.listActive(principal.userId, this.d.clock.now())).filter((s) => s.id !== principal.sessionId);
    for (const session of others) await this.revokeSession(session.id, reason);
    return others.length;
  }

  /** "Sign out everywhere else", asked for by the user. */
  async revokeOthersByUser(principal: Principal, client: ClientInfo): Promise<number> {
    const ended = await this.revokeOthers(principal, "revoked_by_user");
    await this.d.audit.record({ type: "session.revoked_others", ok: true, userId: principal.userId, client, detail: { sessionId: principal.sessionId, ended } });
    return ended;
  }

  /**
   * Idempotent: the row update only touches a live session. Postgres is the truth: once the
   * row says revoked, the revocation stands, and a store outage does not fail the caller's
   * flow (the marker is written by a sync once the store answers).
   */
  private async revokeSession(sessionId: string, reason: string): Promise<void> {
    await this.d.sessions.revoke(sessionId, reason, this.d.clock.now());
    await this.d.markers.write(sessionId, reason);
  }

  private issue(session: Pick<SessionRecord, "id" | "userId" | "aal" | "amr">, refreshToken: string): IssuedTokens {
    const accessToken = this.d.tokens.signAccess({ userId: session.userId, sessionId: session.id, aal: session.aal, amr: session.amr });
    return { accessToken, refreshToken, tokenType: "Bearer", expiresIn: this.d.tokens.accessTtlSeconds };
  }
}

/** The first factor's amr; older rows without one fall back to amr without "mfa". */
function firstFactorAmrOf(session: SessionRecord): string[] {
  return session.firstFactorAmr?.length ? session.firstFactorAmr : session.amr.filter((m) => m !== "mfa");
}
