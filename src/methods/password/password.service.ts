import { normalizeEmail, normalizePhone } from "../../core/contact";
import { AuthError, badInput, invalidCredentials } from "../../core/errors";
import { ipLimitKey } from "../../core/client-info";
import type { AuditLog, ClientInfo, DeliveryQueue, UserRepo } from "../../core/ports";
import type { Limit, RateLimiter } from "../../core/rate-limit";
import type { AuthResult, Principal } from "../../core/auth";
import { accountChangeForbidden, type SessionService } from "../../sessions/session.service";
import type { PasswordHasher } from "./password.hasher";
import { passwordChangedMessage } from "./password.messages";
import { checkNewPassword, MAX_LENGTH, normalizePassword } from "./password.policy";

export interface PasswordLimits {
  /** Login attempts per account; reset by a successful login. */
  perAccount: Limit;
  /** Login attempts per client IP. */
  perIp: Limit;
  /** Sign-ups per client IP. */
  signUpPerIp: Limit;
}

export interface PasswordServiceDeps {
  users: UserRepo;
  sessions: SessionService;
  hasher: PasswordHasher;
  limiter: RateLimiter;
  audit: AuditLog;
  delivery: DeliveryQueue;
  appName: string;
  limits: PasswordLimits;
}

const PASSWORD = { amr: "pwd", authenticator: "password" } as const; // amr per RFC 8176

export class PasswordService {
  constructor(private readonly d: PasswordServiceDeps) {}

  async signUp(input: { email: string; password: string; phone?: string | null }, client: ClientInfo): Promise<AuthResult> {
    const email = normalizeEmail(input.email);
    const password = normalizePassword(input.password);
    checkNewPassword(password, email);
    // A phone is checked for shape but not stored: attached only while free, it would tell
    // whether another account holds the number, and an unproven number on an account is
    // worth nothing (see AccountService). The client proves it with requestOtp(VERIFY_CONTACT).
    if (input.phone) normalizePhone(input.phone);
    await this.d.limiter.consume("signup:ip", ipLimitKey(client.ip), this.d.limits.signUpPerIp);

    const passwordHash = await this.d.hasher.hash(password);
    const user = await this.d.users.create({ email, passwordHash });
    if (!user) {
      // Taken: someone who knows the password is simply signed in; anyone else gets the
      // answer a login with a wrong password would give.
      return this.login({ email, password: input.password }, client);
    }
    await this.d.audit.record({ type: "user.signed_up", ok: true, userId: user.id, client, detail: { method: "password" } });
    return this.d.sessions.completeFirstFactor(user, PASSWORD, client, true);
  }

  async login(input: { email: string; password: string }, client: ClientInfo): Promise<AuthResult> {
    const email = normalizeEmail(input.email);
    const password = normalizePassword(input.password);
    // Counted before hashing: aliases in one operation cannot buy extra guesses.
    await this.d.limiter.consume("login:ip", ipLimitKey(client.ip), this.d.limits.perIp);
    await this.d.limiter.consume("login:account", email, this.d.limits.perAccount);

    const user = await this.d.users.findByEmail(email);
    const ok = [...password].length <= MAX_LENGTH && (await this.d.hasher.verify(user?.passwordHash ?? null, password));
    if (!user || !ok) {
      await this.d.audit.record({ type: "login.password", ok: false, userId: user?.id ?? null, client });
      throw invalidCredentials();
    }
    await this.d.limiter.reset("login:account", email);
    await this.d.audit.record({ type: "login.password", ok: true, userId: user.id, client });
    return this.d.sessions.completeFirstFactor(user, PASSWORD, client);
  }

  /**
   * Sets the signed-in user's password (a first one, or a new one), proven by the current
   * password or by a recent sign-in; with TOTP on, only from an aal2 session. Every other
   * session ends, and a proven email address is told.
   */
  async changePassword(principal: Principal, input: { currentPassword?: string | null; newPassword: string }, client: ClientInfo): Promise<boolean> {
    const user = await this.d.users.findById(principal.userId);
    if (!user) throw new AuthError("UNAUTHENTICATED");
    if (!user.email) throw badInput("newPassword", "Password sign-in needs an email address on the account.");
    const refused = (reason: string) => this.d.audit.record({ type: "password.changed", ok: false, userId: user.id, client, detail: { reason } });
    const refusal = await this.d.sessions.accountChangeRefusal(principal, user, Boolean(input.currentPassword));
    if (refusal) {
      await refused(refusal);
      if (refusal === "sign_in_not_recent" && user.passwordHash) {
        throw new AuthError("FORBIDDEN", "Give your current password, or sign in again to change it without.");
      }
      throw accountChangeForbidden(refusal, user.passwordHash ? "change the password" : "set a password");
    }
    const newPassword = normalizePassword(input.newPassword);
    checkNewPassword(newPassword, user.email, "newPassword");

    if (input.currentPassword) {
      // The same budget as logins to this account: this is a password guess too.
      await this.d.limiter.consume("login:account", user.email, this.d.limits.perAccount);
      const current = normalizePassword(input.currentPassword);
      if (!([...current].length <= MAX_LENGTH && (await this.d.hasher.verify(user.passwordHash, current)))) {
        await refused("wrong_current_password");
        throw badInput("currentPassword", "That is not your current password.");
      }
      await this.d.limiter.reset("login:account", user.email);
    }

    // A login already past the old password (or holding an mfaToken from it) gets no session.
    await this.d.users.update(user.id, { passwordHash: await this.d.hasher.hash(newPassword) }, { liveSession: principal.sessionId, endSignInsInFlight: true });
    const ended = await this.d.sessions.revokeOthers(principal, "password_changed");
    const wasSet = user.passwordHash === null;
    await this.d.audit.record({
      type: "password.changed",
      ok: true,
      userId: user.id,
      client,
      detail: { set: wasSet, proof: input.currentPassword ? "current_password" : "recent_sign_in", otherSessionsEnded: ended },
    });
    if (user.emailVerified) await this.d.delivery.enqueue(passwordChangedMessage(user.email, this.d.appName, user.id, wasSet));
    return true;
  }
}
