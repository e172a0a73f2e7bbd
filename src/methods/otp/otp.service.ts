import { randomInt, randomUUID } from "node:crypto";
import { AuthError, badInput } from "../../core/errors";
import { ipLimitKey, sourceBlock } from "../../core/client-info";
import type { AuditLog, ClientInfo, Clock, Contact, DeliveryQueue, UserRecord, UserRepo } from "../../core/ports";
import type { Limit, RateLimiter } from "../../core/rate-limit";
import type { Authenticator } from "../../core/auth-method";
import type { AuthResult, Principal } from "../../core/auth";
import { secondFactorMustDiffer, type MfaGrant, type SessionService } from "../../sessions/session.service";
import type { AccountService } from "../../users/account.service";
import { isPhoneChannel, maskDestination, parseDestination, type Channel, type Destination } from "./destination";
import type { OtpChallengeStore } from "./otp-challenge.store";
import type { SmsGuard } from "./sms-guard";
import { codeMessage, contactChangedMessage } from "./otp.messages";
import type { OtpSettings, SmsSettings } from "./otp.settings";

export type Purpose = "SIGN_IN" | "MFA" | "VERIFY_CONTACT";

/** Its own settings (OTP_*), the SMS channel's, and the name shown in messages. */
export type OtpServiceSettings = OtpSettings & { sms: Pick<SmsSettings, "enabled" | "allowedCountries">; appName: string };

export interface OtpLimits {
  perDestination: Limit;
  perIp: Limit;
  failedPerDestination: Limit;
}

export interface OtpServiceDeps {
  users: UserRepo;
  accounts: AccountService;
  sessions: SessionService;
  challenges: OtpChallengeStore;
  /** Toll-fraud limits on codes sent to phones (SMS and voice). */
  smsGuard: SmsGuard;
  delivery: DeliveryQueue;
  limiter: RateLimiter;
  audit: AuditLog;
  clock: Clock;
  settings: OtpServiceSettings;
  limits: OtpLimits;
}

export interface IssuedChallenge {
  challengeId: string;
  channel: Channel;
  destinationHint: string;
  expiresAt: Date;
  resendAvailableAt: Date;
  codeLength: number;
}

export type VerifyOutcome = AuthResult | { status: "CONTACT_VERIFIED"; user: UserRecord };

// RFC 8176: "otp" for a code by email, "sms" for a text message, "tel" for a phone call.
const AMR: Record<Channel, string> = { EMAIL: "otp", SMS: "sms", VOICE: "tel" };
/** What a code proves: the mailbox, or the phone (SMS and voice reach the same one). */
const AUTHENTICATOR: Record<Channel, Authenticator> = { EMAIL: "email", SMS: "phone", VOICE: "phone" };
const invalidCode = (attemptsRemaining?: number) =>
  new AuthError("INVALID_CODE", undefined, attemptsRemaining === undefined ? {} : { attemptsRemaining });

export class OtpService {
  constructor(private readonly d: OtpServiceDeps) {}

  async request(
    input: { channel: Channel; destination?: string | null; purpose: Purpose; mfaToken?: string | null },
    principal: Principal | null,
    client: ClientInfo,
  ): Promise<IssuedChallenge> {
    const { settings } = this.d;
    if (isPhoneChannel(input.channel) && !settings.sms.enabled) throw new AuthError("NOT_AVAILABLE", "Codes by SMS or phone call are turned off on this gateway.");
    const target = await this.resolveTarget(input, principal);
    const { destination, userId } = target;
    // The toll-fraud breaker credits a verification to the network that asked for the code.
    const extra = isPhoneChannel(input.channel) ? { ...target.extra, smsSource: sourceBlock(client.ip) } : target.extra;
    this.assertCountryAllowed(destination);

    await this.d.limiter.consume("otp:request:ip", ipLimitKey(client.ip), this.d.limits.perIp);
    const cooldown = { max: 1, windowSeconds: settings.resendCooldownSeconds };
    // Counted per purpose, so that nobody spends another's: anyone may ask for sign-in codes,
    // MFA codes only after the account's first factor, and a contact proof counts per asking
    // account (any signed-in account may type someone else's address).
    const subject = input.purpose === "VERIFY_CONTACT" ? `${userId}:${destination.address}` : destination.address;
    if (settings.resendCooldownSeconds > 0) await this.d.limiter.consume(`otp:cooldown:${input.purpose}`, subject, cooldown);
    const bucket = input.purpose === "SIGN_IN" ? "otp:request:destination" : `otp:request:destination:${input.purpose}`;
    await this.d.limiter.consume(bucket, subject, this.d.limits.perDestination);

    const code = String(randomInt(0, 10 ** settings.length)).padStart(settings.length, "0");
    const challengeId = randomUUID();
    await this.d.challenges.create({
      challengeId,
      code,
      purpose: input.purpose,
      channel: input.channel,
      destination: destination.address,
      userId,
      ttlSeconds: settings.ttlSeconds,
      maxAttempts: settings.maxAttempts,
      extra,
    });
    // A sign-in code for an unknown address when sign-up is off is never sent, but the
    // answer is the same: nobody learns whether the address has an account.
    const deliver = input.purpose !== "SIGN_IN" || userId !== null || settings.signUp;
    // Every code for a phone passes the toll-fraud guard, sent or not: one refused only for
    // numbers with an account would tell which numbers have one (sign-up off).
    if (isPhoneChannel(input.channel)) await this.d.smsGuard.admit(destination, client);
    await this.d.audit.record({ type: "otp.requested", ok: true, userId, client, detail: { channel: input.channel, purpose: input.purpose, sent: deliver } });
    const now = this.d.clock.now().getTime();
    const expiresAt = now + settings.ttlSeconds * 1000;
    // Last, after everything that can fail: a request answered with an error sends nothing.
    // The queue retries the code for as long as it lives (expiresAt).
    if (deliver) {
      await this.d.delivery.enqueue({ ...codeMessage(destination, code, input.purpose, settings.ttlSeconds, settings.appName, userId), expiresAt });
    }
    return {
      challengeId,
      channel: input.channel,
      destinationHint: maskDestination(destination),
      expiresAt: new Date(expiresAt),
      resendAvailableAt: new Date(now + settings.resendCooldownSeconds * 1000),
      codeLength: settings.length,
    };
  }

  async verify(input: { challengeId: string; code: string }, principal: Principal | null, client: ClientInfo): Promise<VerifyOutcome> {
    const failLimit = this.d.limits.failedPerDestination;
    const result = await this.d.challenges.verify(input.challengeId, input.code.trim(), (subject) =>
      this.d.limiter.assertUnder("otp:verify:failed", subject, failLimit),
    );
    switch (result.status) {
      case "OK":
        break;
      case "INVALID":
        await this.d.audit.record({ type: "otp.verified", ok: false, client, detail: { attemptsRemaining: result.attemptsRemaining } });
        await this.d.limiter.record("otp:verify:failed", result.subject, failLimit.windowSeconds);
        throw invalidCode(result.attemptsRemaining);
      case "EXPIRED":
        throw new AuthError("CODE_EXPIRED");
      case "TOO_MANY_ATTEMPTS":
        throw new AuthError("TOO_MANY_ATTEMPTS");
      default:
        throw invalidCode();
    }
    const { purpose, channel, destination, userId, extra } = result.challenge;
    const d: Destination = isPhoneChannel(channel as Channel) ? parseDestination(channel as Channel, destination) : { channel: channel as Channel, address: destination };
    // A verified code tells the toll-fraud breaker that this country's codes reach people.
    if (isPhoneChannel(d.channel)) await this.d.smsGuard.recordVerified(d, extra.smsSource ?? sourceBlock(client.ip));
    const amr = AMR[d.channel];
    const factor = { amr, authenticator: AUTHENTICATOR[d.channel] };
    if (purpose === "MFA") {
      const user = userId ? await this.d.users.findById(userId) : null;
      if (!user) throw invalidCode();
      // The mfaToken as resolved when the code was asked for; completeSecondFactor refuses
      // the same authenticator as the first factor and a token that finished a sign-in already.
      if (!extra.mfaGrant) throw new AuthError("UNAUTHENTICATED", "The MFA step has expired or is not valid. Sign in again.");
      const grant = JSON.parse(extra.mfaGrant) as MfaGrant;
      const signedIn = await this.d.sessions.completeSecondFactor(user, grant, factor, client);
      await this.d.audit.record({ type: "mfa.otp", ok: true, userId: user.id, client, detail: { channel } });
      return signedIn;
    }
    if (purpose === "VERIFY_CONTACT") {
      if (!principal || principal.userId !== userId) throw new AuthError("UNAUTHENTICATED", "Sign in as the account that asked for this code.");
      // Checked again: the session may have aged, or lost its aal2, since the code was sent.
      const { before, changes } = await this.assertMayVerifyContact(principal, d, client);
      const user = await this.attachProvenContact(principal, { kind: d.channel === "EMAIL" ? "email" : "phone", address: destination }, client);
      await this.d.audit.record({ type: "contact.verified", ok: true, userId: user.id, client, detail: { channel, changed: changes } });
      // The address the owner proved before hears of it: the one way to notice a takeover.
      if (changes && before.emailVerified && before.email) {
        await this.d.delivery.enqueue(contactChangedMessage(before.email, d, this.d.settings.appName, user.id));
      }
      return { status: "CONTACT_VERIFIED", user };
    }
    const contact = { kind: d.channel === "EMAIL" ? ("email" as const) : ("phone" as const), address: d.address };
    const signedIn = await this.d.accounts.signInWithProvenContact(contact, factor, client, {
      signUp: this.d.settings.signUp,
      method: `otp.${d.channel.toLowerCase()}`,
    });
    if (!signedIn) throw invalidCode();
    return signedIn;
  }

  private async resolveTarget(
    input: { channel: Channel; destination?: string | null; purpose: Purpose; mfaToken?: string | null },
    principal: Principal | null,
  ): Promise<{ destination: Destination; userId: string | null; extra?: Record<string, string> }> {
    if (input.purpose === "MFA") {
      if (!input.mfaToken) throw badInput("mfaToken", "An MFA code needs the mfaToken from login.");
      const grant = await this.d.sessions.resolveMfaToken(input.mfaToken);
      // A code to the mailbox or phone the first factor already proved is no second factor.
      if (grant.factors.includes(AUTHENTICATOR[input.channel])) throw secondFactorMustDiffer();
      const user = await this.d.users.findById(grant.userId);
      const address = input.channel === "EMAIL" ? user?.emailVerified && user.email : user?.phoneVerified && user.phone;
      if (!user || !address) throw badInput("channel", `This account has no verified ${input.channel === "EMAIL" ? "email" : "phone"} for codes.`);
      const destination = parseDestination(input.channel, address);
      return { destination, userId: user.id, extra: { mfaGrant: JSON.stringify(grant) } };
    }
    const destination = parseDestination(input.channel, input.destination);
    if (input.purpose === "VERIFY_CONTACT") {
      if (!principal) throw new AuthError("UNAUTHENTICATED");
      await this.assertMayVerifyContact(principal, destination, null);
      return { destination, userId: principal.userId };
    }
    const user = input.channel === "EMAIL" ? await this.d.users.findByEmail(destination.address) : await this.d.users.findByPhone(destination.address);
    return { destination, userId: user?.id ?? null };
  }

  /**
   * Puts a just-proven address on the caller's account. Unproven on another account, it
   * moves here (whoever put it there never proved it); proven there, it cannot be added.
   */
  private async attachProvenContact(principal: Principal, contact: Contact, client: ClientInfo): Promise<UserRecord> {
    const { userId, sessionId: liveSession } = principal;
    const patch = contact.kind === "email" ? { email: contact.address, emailVerified: true } : { phone: contact.address, phoneVerified: true };
    // Each retry follows a concurrent change of the holder (released, proven, moved).
    for (let attempt = 0; attempt < 3; attempt++) {
      const user = await this.d.users.update(userId, patch, { liveSession });
      if (user) return user;
      const holder = contact.kind === "email" ? await this.d.users.findByEmail(contact.address) : await this.d.users.findByPhone(contact.address);
      if (!holder) continue;
      if (holder.id === userId || (contact.kind === "email" ? holder.emailVerified : holder.phoneVerified)) break;
      const moved = await this.d.users.moveUnprovenContact(holder.id, contact, userId, { liveSession });
      if (moved) {
        await this.d.audit.record({ type: "account.contact_detached", ok: true, userId: holder.id, client, detail: { kind: contact.kind, toUserId: userId } });
        return moved;
      }
    }
    throw badInput("destination", "This address cannot be added to your account.");
  }

  /**
   * Proving the address already on the account needs nothing more. Adding or replacing one
   * is an account change (a stolen session would otherwise move the account to its own
   * address): only from a recent sign-in, and aal2 when TOTP is on. `client` is set when
   * a refusal should be audited (at verify; at request the code is simply not sent).
   */
  private async assertMayVerifyContact(principal: Principal, d: Destination, client: ClientInfo | null): Promise<{ before: UserRecord; changes: boolean }> {
    const before = await this.d.users.findById(principal.userId);
    if (!before) throw new AuthError("UNAUTHENTICATED");
    const changes = (d.channel === "EMAIL" ? before.email : before.phone) !== d.address;
    if (changes) {
      const action = d.channel === "EMAIL" ? "change your email address" : "change your phone number";
      await this.d.sessions.assertMayChangeAccount(principal, before, action, client ? { type: "contact.verified", client, detail: { channel: d.channel } } : undefined);
    }
    return { before, changes };
  }

  private assertCountryAllowed(d: Destination): void {
    const allowed = this.d.settings.sms.allowedCountries;
    if (!isPhoneChannel(d.channel) || allowed === "*") return;
    if (!d.country || !allowed.includes(d.country)) throw badInput("destination", "Codes by phone are not available for this country.");
  }
}
