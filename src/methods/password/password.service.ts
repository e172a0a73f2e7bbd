import { normalizeEmail, normalizePhone } from "../../core/contact";
import { invalidCredentials } from "../../core/errors";
import type { AuditLog, ClientInfo, UserRepo } from "../../core/ports";
import type { Limit, RateLimiter } from "../../core/rate-limit";
import type { AuthResult, SessionService } from "../../sessions/session.service";
import type { PasswordHasher } from "./password.hasher";
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
  limits: PasswordLimits;
}

const AMR_PASSWORD = "pwd"; // RFC 8176

export class PasswordService {
  constructor(private readonly d: PasswordServiceDeps) {}

  async signUp(input: { email: string; password: string; phone?: string | null }, client: ClientInfo): Promise<AuthResult> {
    const email = normalizeEmail(input.email);
    const password = normalizePassword(input.password);
    checkNewPassword(password, email);
    const phone = input.phone ? normalizePhone(input.phone).e164 : undefined;
    await this.d.limiter.consume("signup:ip", client.ip ?? "unknown", this.d.limits.signUpPerIp);

    // An unverified phone is attached only while nobody holds it; it is proven later by a code.
    const phoneFree = phone !== undefined && (await this.d.users.findByPhone(phone)) === null;
    const passwordHash = await this.d.hasher.hash(password);
    const user = await this.d.users.create({ email, passwordHash, phone: phoneFree ? phone : undefined });
    if (!user) {
      // Taken: someone who knows the password is simply signed in; anyone else gets the
      // answer a login with a wrong password would give.
      return this.login({ email, password: input.password }, client);
    }
    await this.d.audit.record({ type: "user.signed_up", ok: true, userId: user.id, client, detail: { method: "password" } });
    return this.d.sessions.completeFirstFactor(user, [AMR_PASSWORD], client, true);
  }

  async login(input: { email: string; password: string }, client: ClientInfo): Promise<AuthResult> {
    const email = normalizeEmail(input.email);
    const password = normalizePassword(input.password);
    // Counted before hashing: aliases in one operation cannot buy extra guesses.
    await this.d.limiter.consume("login:ip", client.ip ?? "unknown", this.d.limits.perIp);
    await this.d.limiter.consume("login:account", email, this.d.limits.perAccount);

    const user = await this.d.users.findByEmail(email);
    const ok = [...password].length <= MAX_LENGTH && (await this.d.hasher.verify(user?.passwordHash ?? null, password));
    if (!user || !ok) {
      await this.d.audit.record({ type: "login.password", ok: false, userId: user?.id ?? null, client });
      throw invalidCredentials();
    }
    await this.d.limiter.reset("login:account", email);
    await this.d.audit.record({ type: "login.password", ok: true, userId: user.id, client });
    return this.d.sessions.completeFirstFactor(user, [AMR_PASSWORD], client);
  }
}
