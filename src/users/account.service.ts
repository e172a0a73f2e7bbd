import type { Factor } from "../core/auth-method";
import type { AuditLog, ClientInfo, Clock, Contact, UserRecord, UserRepo } from "../core/ports";
import type { AuthResult } from "../core/auth";
import type { SessionService } from "../sessions/session.service";

/** An email or phone number the person has just proven they receive messages at. */
export type ProvenContact = Contact;

export interface AccountOptions {
  signUp: boolean;
  /** The method's name in the audit trail (login.<method>, user.signed_up's detail). */
  method: string;
  /** More for those events, e.g. the provider of a social sign-in; never a secret. */
  detail?: Record<string, unknown>;
}

export interface ProvenAccount {
  user: UserRecord;
  isNewUser: boolean;
}

/** A conditional write lost to a concurrent one; each retry reads what that one wrote. */
const MAX_ATTEMPTS = 3;

const isProven = (user: UserRecord, kind: Contact["kind"]) => (kind === "email" ? user.emailVerified : user.phoneVerified);

/**
 * Passwordless sign-in, shared by one-time codes and magic links: a proven address signs
 * in its account, or creates one when sign-up is allowed.
 *
 * Pre-account hijacking: an address that sits UNPROVEN on an account was put there by
 * whoever created it, not necessarily by its owner. Proving it never signs the prover into
 * an account someone else proved something on: the address moves to a new account of the
 * prover's. Only an account on which nothing was ever proven is claimed, and then nothing
 * its creator set survives.
 */
export class AccountService {
  constructor(private readonly d: { users: UserRepo; sessions: SessionService; audit: AuditLog; clock: Clock }) {}

  /** Null when the address has no account of the prover's and sign-up is off. */
  async signInWithProvenContact(
    contact: ProvenContact,
    factor: Factor,
    client: ClientInfo,
    opts: AccountOptions,
  ): Promise<AuthResult | null> {
    const account = await this.accountForProvenContact(contact, client, opts);
    return account && this.d.sessions.completeFirstFactor(account.user, factor, client, account.isNewUser);
  }

  /**
   * The account a proven address signs in to, by the rules above, without signing in:
   * social sign-in attaches its identity to it first. Null as for signInWithProvenContact.
   */
  async accountForProvenContact(contact: ProvenContact, client: ClientInfo, opts: AccountOptions): Promise<ProvenAccount | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // With sign-up on, the find and a sign-up's create are one statement.
      const found = opts.signUp ? await this.d.users.findOrCreateByContact(contact) : await this.holderOf(contact);
      if (!found) {
        // Lost a race with a concurrent sign-up for the same address: read that account.
        if (opts.signUp) continue;
        return null;
      }
      if (found.created) {
        await this.d.audit.record({ type: "user.signed_up", ok: true, userId: found.user.id, client, detail: { method: opts.method, ...opts.detail } });
        return { user: found.user, isNewUser: true };
      }
      const existing = found.user;
      if (isProven(existing, contact.kind)) {
        await this.d.audit.record({ type: `login.${opts.method}`, ok: true, userId: existing.id, client, ...(opts.detail && { detail: opts.detail }) });
        return { user: existing, isNewUser: false };
      }
      const result = existing.emailVerified || existing.phoneVerified
        ? await this.detachToNewAccount(existing, contact, client, opts)
        : await this.claim(existing, contact, client, opts);
      if (result !== "conflict") return result;
    }
    throw new Error("account changed concurrently too often");
  }

  private async holderOf(contact: Contact): Promise<{ user: UserRecord; created: false } | null> {
    const user = contact.kind === "email" ? await this.d.users.findByEmail(contact.address) : await this.d.users.findByPhone(contact.address);
    return user && { user, created: false };
  }

  /**
   * The account's owner proved something else: the address was never theirs. It leaves
   * their account and the prover gets one of their own (when sign-up is allowed; otherwise
   * the address counts as having no account, and nothing changes).
   */
  private async detachToNewAccount(holder: UserRecord, contact: Contact, client: ClientInfo, opts: AccountOptions): Promise<ProvenAccount | null | "conflict"> {
    if (!opts.signUp) return null;
    const created = await this.d.users.moveUnprovenContact(holder.id, contact, null);
    if (!created) return "conflict";
    await this.d.audit.record({ type: "account.contact_detached", ok: true, userId: holder.id, client, detail: { kind: contact.kind, toUserId: created.id } });
    await this.d.audit.record({ type: "user.signed_up", ok: true, userId: created.id, client, detail: { method: opts.method, ...opts.detail } });
    return { user: created, isNewUser: true };
  }

  /**
   * Nobody ever proved anything on the account: the prover claims it. Whoever created it
   * keeps nothing: no password, no other contact, no TOTP or recovery codes, no session.
   */
  private async claim(user: UserRecord, contact: Contact, client: ClientInfo, opts: AccountOptions): Promise<ProvenAccount | "conflict"> {
    const claimed = await this.d.users.claimUnproven(user.id, contact, this.d.clock.now());
    if (!claimed) return "conflict";
    // Revoked in the claim's transaction; this makes their access tokens stop at once too.
    await this.d.sessions.revokeSessions(claimed.revokedSessionIds, "unproven_account_claimed");
    await this.d.audit.record({
      type: "account.claimed",
      ok: true,
      userId: user.id,
      client,
      detail: {
        via: contact.kind,
        passwordRemoved: user.passwordHash !== null,
        otherContactRemoved: (contact.kind === "email" ? user.phone : user.email) !== null,
        totpRemoved: user.totpEnabled,
        sessionsEnded: claimed.revokedSessionIds.length,
      },
    });
    await this.d.audit.record({ type: `login.${opts.method}`, ok: true, userId: user.id, client, ...(opts.detail && { detail: opts.detail }) });
    return { user: claimed.user, isNewUser: false };
  }
}
