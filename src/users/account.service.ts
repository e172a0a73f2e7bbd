import type { Factor } from "../core/auth-method";
import type { AuditLog, ClientInfo, UserRecord, UserRepo } from "../core/ports";
import type { AuthResult, SessionService } from "../sessions/session.service";

/** An email or phone number the person has just proven they receive messages at. */
export interface ProvenContact {
  kind: "email" | "phone";
  address: string;
}

/**
 * Passwordless sign-in, shared by one-time codes and magic links: a proven address signs
 * in its account, or creates one when sign-up is allowed.
 */
export class AccountService {
  constructor(private readonly d: { users: UserRepo; sessions: SessionService; audit: AuditLog }) {}

  /** Null when the address has no account and sign-up is off. */
  async signInWithProvenContact(
    contact: ProvenContact,
    factor: Factor,
    client: ClientInfo,
    opts: { signUp: boolean; method: string },
  ): Promise<AuthResult | null> {
    const find = () => (contact.kind === "email" ? this.d.users.findByEmail(contact.address) : this.d.users.findByPhone(contact.address));
    const existing = await find();
    if (!existing) {
      if (!opts.signUp) return null;
      const created = await this.d.users.create(
        contact.kind === "email" ? { email: contact.address, emailVerified: true } : { phone: contact.address, phoneVerified: true },
      );
      // Lost a race with a concurrent sign-up for the same address: sign in that account.
      const user = created ?? (await find());
      if (!user) return null;
      if (created) await this.d.audit.record({ type: "user.signed_up", ok: true, userId: user.id, client, detail: { method: opts.method } });
      return this.d.sessions.completeFirstFactor(user, factor, client, created !== null);
    }
    const user = await this.claimIfUnproven(existing, contact);
    await this.d.audit.record({ type: `login.${opts.method}`, ok: true, userId: user.id, client });
    return this.d.sessions.completeFirstFactor(user, factor, client);
  }

  /**
   * Someone may have signed up with this address before its owner (pre-account hijacking).
   * The owner has now proven it: the address is marked verified, and a password and
   * sessions set up by whoever created the unproven account stop working.
   */
  private async claimIfUnproven(user: UserRecord, contact: ProvenContact): Promise<UserRecord> {
    const proven = contact.kind === "email" ? user.emailVerified : user.phoneVerified;
    if (proven) return user;
    const patch = contact.kind === "email" ? { emailVerified: true } : { phoneVerified: true };
    const updated = (await this.d.users.update(user.id, user.passwordHash ? { ...patch, passwordHash: null } : patch)) ?? user;
    if (user.passwordHash) {
      await this.d.sessions.revokeAll(user.id, "unproven_account_claimed");
      await this.d.audit.record({ type: "account.claimed", ok: true, userId: user.id, detail: { via: contact.kind } });
    }
    return updated;
  }
}
