import { AuthError, badInput } from "../../core/errors";
import type { AuditLog, ClientInfo, Clock, DeliveryQueue, KeyValueStore, OutgoingMessage, UserRecord, UserRepo } from "../../core/ports";
import type { Limit, RateLimiter } from "../../core/rate-limit";
import type { MethodDeps } from "../deps";
import type { SessionService } from "../../sessions/session.service";
import type { SecretBox } from "../../core/secret-box";
import type { AuthResult, IssuedTokens, Principal } from "../../core/auth";
import { generateTotpSecret, matchTotp, otpauthUrl } from "./totp.algorithm";
import { recoveryCodesRegeneratedMessage, totpReplacedMessage, totpDisabledMessage } from "./totp.messages";
import { qrCodeDataUrl } from "./totp.qr";
import type { TotpFactorRecord, TotpRepo } from "./totp.repo";

export interface TotpLimits {
  /** Codes tried with one mfaToken. */
  perMfaToken: Limit;
  /** Codes tried for one user, across tokens and sessions. */
  perUser: Limit;
}

export interface TotpServiceDeps {
  users: UserRepo;
  factors: TotpRepo;
  recoveryCodes: MethodDeps["recoveryCodes"];
  sessions: SessionService;
  box: SecretBox;
  store: KeyValueStore;
  limiter: RateLimiter;
  audit: AuditLog;
  clock: Clock;
  /** Notices to the owner's proven email when the second factor changes. */
  delivery: DeliveryQueue;
  appName: string;
  issuer: string;
  limits: TotpLimits;
}

const PENDING_TTL_MS = 15 * 60_000;
/** Accepted codes a step off in a row before the user is told their clock drifts. */
const DRIFT_STREAK_TO_REPORT = 3;
const pendingKey = (userId: string) => `totp:pending:${userId}`;
const invalid = (message = "That code is not valid.") => new AuthError("INVALID_CODE", message);

export class TotpService {
  constructor(private readonly d: TotpServiceDeps) {}

  /**
   * Starts enrolment: a new secret, kept sealed in the store for 15 minutes until
   * confirmTotp. With TOTP already on, only a current code may replace it.
   */
  async enroll(principal: Principal, code: string | null | undefined, client: ClientInfo) {
    const user = await this.d.users.findById(principal.userId);
    if (!user) throw new AuthError("UNAUTHENTICATED");
    if (user.totpEnabled && !code) throw badInput("code", "An authenticator app is already on: give a current code from it to replace it.");
    // A stolen session setting up its own app would lock the owner out with the thief's:
    // a recent sign-in, and aal2 when an app is on (one phished code is not enough).
    const action = user.totpEnabled ? "replace the authenticator app" : "set up an authenticator app";
    await this.d.sessions.assertMayChangeAccount(principal, user, action, { type: "totp.enrollment_started", client });
    if (user.totpEnabled) await this.checkCode(user.id, code!, client, null);
    const secret = generateTotpSecret();
    await this.d.store.set(pendingKey(user.id), this.d.box.seal(secret.raw, user.id), PENDING_TTL_MS);
    const url = otpauthUrl({ secretBase32: secret.base32, issuer: this.d.issuer, account: user.email ?? user.phone ?? user.id });
    await this.d.audit.record({ type: "totp.enrollment_started", ok: true, userId: user.id, client });
    return { secret: secret.base32, otpauthUrl: url, qrCodeDataUrl: await qrCodeDataUrl(url) };
  }

  /**
   * Turns TOTP on with a first valid code; returns ten recovery codes, shown once. The
   * account's other sessions end; the caller's stays (aal1 until it steps up).
   */
  async confirm(principal: Principal, code: string, client: ClientInfo): Promise<string[]> {
    const userId = principal.userId;
    await this.d.limiter.consume("totp:user", userId, this.d.limits.perUser);
    const sealed = await this.d.store.get(pendingKey(userId));
    if (!sealed) throw badInput("code", "Start with enrollTotp: no enrolment is waiting (they last 15 minutes).");
    const match = matchTotp(this.d.box.open(sealed, userId), code.trim(), this.d.clock.now().getTime());
    if (!match) {
      await this.d.audit.record({ type: "totp.confirm", ok: false, userId, client });
      throw invalid();
    }
    const before = await this.d.users.findById(userId);
    await this.d.factors.activate(userId, sealed, match.step, { liveSession: principal.sessionId });
    await this.d.store.del(pendingKey(userId));
    const codes = await this.d.recoveryCodes.issue(userId);
    await this.d.limiter.reset("totp:user", userId);
    // A session signed in before could be a thief's: it must not live on beside the new factor.
    const ended = await this.d.sessions.revokeOthers(principal, "totp_enabled");
    const replaced = before?.totpEnabled === true;
    await this.d.audit.record({ type: "totp.enabled", ok: true, userId, client, detail: { otherSessionsEnded: ended, ...(replaced && { replaced }) } });
    // As for turning it off: how the owner learns that someone else's app took the place of theirs.
    if (before && replaced) await this.notify(before, totpReplacedMessage);
    return codes;
  }

  /** Finishes an MFA sign-in (with the mfaToken from a first factor). */
  async completeMfa(mfaToken: string, code: string, client: ClientInfo): Promise<AuthResult> {
    const grant = await this.d.sessions.resolveMfaToken(mfaToken);
    // By the token's id: a JWT has several spellings that verify (base64url tail bits, the high-S signature).
    await this.d.limiter.consume("totp:mfa-token", grant.jti, this.d.limits.perMfaToken);
    await this.checkCode(grant.userId, code, client, "mfa");
    const user = await this.d.users.findById(grant.userId);
    if (!user) throw invalid();
    return this.d.sessions.completeSecondFactor(user, grant, { amr: "otp", authenticator: "totp" }, client);
  }

  /** Steps the caller's session up to aal2. */
  async stepUp(principal: Principal, code: string, client: ClientInfo): Promise<IssuedTokens> {
    await this.checkCode(principal.userId, code, client, "step_up");
    return this.d.sessions.stepUp(principal, "otp", client);
  }

  /**
   * Turns TOTP off: a current code from the app, or a recovery code, from an aal2 session
   * that signed in recently (a stolen session and one phished code are not enough).
   */
  async disable(principal: Principal, code: string, client: ClientInfo): Promise<boolean> {
    const userId = principal.userId;
    const user = await this.d.users.findById(userId);
    if (!user) throw new AuthError("UNAUTHENTICATED");
    await this.d.sessions.assertMayChangeAccount(principal, user, "turn the authenticator app off", { type: "totp.disabled", client });
    // Counted before either kind of code is looked at: a recovery code is a guess too.
    await this.d.limiter.consume("totp:user", userId, this.d.limits.perUser);
    const factor = await this.requireFactor(userId);
    const byRecovery = !/^\d{6}$/.test(code.trim()) && (await this.d.recoveryCodes.consume(userId, code));
    if (byRecovery) await this.d.limiter.reset("totp:user", userId);
    else await this.matchCode(userId, code, client, "disable", factor);
    await this.d.factors.remove(userId);
    await this.d.recoveryCodes.removeAll(userId);
    await this.d.audit.record({ type: "totp.disabled", ok: true, userId, client, detail: { with: byRecovery ? "recovery_code" : "totp" } });
    await this.notify(user, totpDisabledMessage);
    return true;
  }

  /**
   * Ten new recovery codes (the old ones stop working): a current code, from an aal2 session
   * that signed in recently (a stolen session and one phished code would void the owner's
   * codes and hold new ones).
   */
  async regenerateRecoveryCodes(principal: Principal, code: string, client: ClientInfo): Promise<string[]> {
    const user = await this.d.users.findById(principal.userId);
    if (!user) throw new AuthError("UNAUTHENTICATED");
    await this.d.sessions.assertMayChangeAccount(principal, user, "make new recovery codes", { type: "recovery_codes.regenerated", client });
    await this.checkCode(user.id, code, client, "recovery_codes");
    const codes = await this.d.recoveryCodes.issue(user.id);
    await this.d.audit.record({ type: "recovery_codes.regenerated", ok: true, userId: user.id, client });
    await this.notify(user, recoveryCodesRegeneratedMessage);
    return codes;
  }

  /** A notice to the owner's proven email, as password changes send: how they learn of a takeover. */
  private async notify(user: UserRecord, message: (email: string, appName: string, userId: string) => OutgoingMessage): Promise<void> {
    if (user.email && user.emailVerified) await this.d.delivery.enqueue(message(user.email, this.d.appName, user.id));
  }

  /** A current code of the user's app, counted against the per-user limit first. */
  private async checkCode(userId: string, code: string, client: ClientInfo, purpose: string | null, known?: TotpFactorRecord): Promise<void> {
    await this.d.limiter.consume("totp:user", userId, this.d.limits.perUser);
    await this.matchCode(userId, code, client, purpose, known);
  }

  /**
   * A current code of the user's app (the caller has counted the attempt): within one step
   * either side, and never a time step already used (RFC 6238 §5.2, NIST SP 800-63B).
   */
  private async matchCode(userId: string, code: string, client: ClientInfo, purpose: string | null, known?: TotpFactorRecord): Promise<void> {
    const factor = known ?? (await this.requireFactor(userId));
    const secret = this.d.box.open(factor.secretSealed, userId);
    const match = matchTotp(secret, code.trim(), this.d.clock.now().getTime());
    if (!match) {
      await this.d.audit.record({ type: "totp.verify", ok: false, userId, client, detail: { purpose } });
      throw invalid();
    }
    // RFC 6238 §6: a device consistently a step off gets told, once per streak.
    const streak = match.offset !== 0 && match.offset === factor.driftSteps ? factor.driftStreak + 1 : match.offset !== 0 ? 1 : 0;
    if (!(await this.d.factors.acceptStep(userId, match.step, { steps: match.offset, streak }))) {
      await this.d.audit.record({ type: "totp.replay", ok: false, userId, client, detail: { purpose } });
      throw invalid("That code was used already. Wait for the next one.");
    }
    if (streak === DRIFT_STREAK_TO_REPORT) {
      await this.d.audit.record({ type: "totp.clock_drift", ok: true, userId, client, detail: { offsetSteps: match.offset } });
    }
    // After a key rotation, each secret moves to the current key the next time it is used.
    if (this.d.box.needsReseal(factor.secretSealed)) await this.d.factors.reseal(userId, this.d.box.seal(secret, userId));
    await this.d.limiter.reset("totp:user", userId);
    await this.d.audit.record({ type: "totp.verify", ok: true, userId, client, detail: { purpose } });
  }

  private async requireFactor(userId: string): Promise<TotpFactorRecord> {
    const factor = await this.d.factors.find(userId);
    if (!factor) throw badInput("code", "This account has no authenticator app.");
    return factor;
  }
}
