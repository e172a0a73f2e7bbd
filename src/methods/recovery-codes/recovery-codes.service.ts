import { AuthError } from "../../core/errors";
import type { AuditLog, ClientInfo, UserRepo } from "../../core/ports";
import type { Limit, RateLimiter } from "../../core/rate-limit";
import type { AuthResult } from "../../core/auth";
import type { RecoveryCodes } from "./recovery-codes";
import type { SessionService } from "../../sessions/session.service";

export class RecoveryCodeService {
  constructor(
    private readonly d: {
      users: UserRepo;
      codes: RecoveryCodes;
      sessions: SessionService;
      limiter: RateLimiter;
      audit: AuditLog;
      limits: { perMfaToken: Limit; perUser: Limit };
    },
  ) {}

  /** Finishes an MFA sign-in with a recovery code; each code works once. */
  async signIn(mfaToken: string, code: string, client: ClientInfo): Promise<AuthResult> {
    const grant = await this.d.sessions.resolveMfaToken(mfaToken);
    const { userId } = grant;
    // By the token's id: a JWT has several spellings that verify (base64url tail bits, the high-S signature).
    await this.d.limiter.consume("recovery:mfa-token", grant.jti, this.d.limits.perMfaToken);
    await this.d.limiter.consume("recovery:user", userId, this.d.limits.perUser);
    const user = await this.d.users.findById(userId);
    if (!user || !(await this.d.codes.consume(userId, code))) {
      await this.d.audit.record({ type: "recovery_code.used", ok: false, userId, client });
      throw new AuthError("INVALID_CODE", "That recovery code is not valid or was used already.");
    }
    const left = await this.d.codes.remaining(userId);
    await this.d.audit.record({ type: "recovery_code.used", ok: true, userId, client, detail: { remaining: left } });
    // A recovery code is a one-time password (RFC 8176 "otp").
    return this.d.sessions.completeSecondFactor(user, grant, { amr: "otp", authenticator: "recovery_code" }, client);
  }
}
