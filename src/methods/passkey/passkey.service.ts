import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { WAY_REMOVAL_ATTEMPTS, type Factor, type WaysIn } from "../../core/auth-method";
import type { AuthResult, IssuedTokens, Principal } from "../../core/auth";
import { ipLimitKey } from "../../core/client-info";
import { AuthError, badInput } from "../../core/errors";
import type { AuditLog, ClientInfo, Clock, DeliveryQueue, OutgoingMessage, UserRecord, UserRepo } from "../../core/ports";
import type { Limit, RateLimiter } from "../../core/rate-limit";
import type { MfaGrant, SessionService } from "../../sessions/session.service";
import { passkeyAddedMessage, passkeyRemovedMessage } from "./passkey.messages";
import { cleanPasskeyName, passkeyNameFor } from "./passkey.names";
import type { PasskeyRecord, PasskeyRepo } from "./passkey.repo";
import type { RelyingParty } from "./passkey.settings";
import type { ChallengePurpose, PasskeyChallenge, PasskeyChallengeStore } from "./passkey-challenge.store";

export interface PasskeyLimits {
  /** Options asked for from one IP (each one is a store write). */
  optionsPerIp: Limit;
  /** Answers checked from one IP. */
  verifyPerIp: Limit;
  /** Answers checked for one account (by the credential's owner). */
  verifyPerUser: Limit;
}

export interface PasskeyServiceDeps {
  users: UserRepo;
  passkeys: PasskeyRepo;
  challenges: PasskeyChallengeStore;
  sessions: SessionService;
  limiter: RateLimiter;
  audit: AuditLog;
  clock: Clock;
  /** Notices to the owner's proven email when a passkey is added or removed. */
  delivery: DeliveryQueue;
  /** The account's ways in across the methods (passkeys among them while enabled). */
  waysIn: WaysIn;
  appName: string;
  enabled: boolean;
  rp: RelyingParty;
  timeoutSeconds: number;
  attestation: "none" | "direct";
  limits: PasskeyLimits;
}

/** Options for the browser, and the id to send back with its answer. */
export interface PasskeyOptionsResult {
  challengeId: string;
  optionsJson: string;
}

/** What verifyPasskey ends in: a sign-in (maybe an MFA one), or new tokens for the stepped-up session. */
export type PasskeyVerification = { kind: "signed_in"; result: AuthResult } | { kind: "stepped_up"; tokens: IssuedTokens; userId: string };

/** ES256 and RS256: what platform authenticators and security keys make (WebAuthn L3 §5.8.3). */
const SUPPORTED_ALGORITHMS = [-7, -257];
/** Enough for anyone's devices and password managers; a cap on what one account can store. */
export const MAX_PASSKEYS_PER_USER = 20;
/** credential.toJSON() is a few KB; anything far larger is not one. */
const MAX_RESPONSE_CHARS = 64 * 1024;

const spent = () => new AuthError("UNAUTHENTICATED", "That passkey challenge has expired, was used already, or is for another step. Ask for new options.");
const notRegistered = () => new AuthError("UNAUTHENTICATED", "That passkey is not registered here.");
const notThisAccount = () => new AuthError("UNAUTHENTICATED", "That passkey is not one of this account's.");
const notAvailable = () => new AuthError("NOT_AVAILABLE", "Passkeys are turned off on this gateway.");
const noSuchPasskey = () => badInput("id", "No such passkey.");

/** A proven email or phone: how the owner gets back in (and what no pre-registrant can fake). */
const hasProvenContact = (u: UserRecord) => Boolean((u.email && u.emailVerified) || (u.phone && u.phoneVerified));

/** The ceremony an authentication request is for, from who asks: the options and the answer must agree. */
const purposeOf = (mfaToken: string | null | undefined, principal: Principal | null): Exclude<ChallengePurpose, "register"> =>
  mfaToken ? "mfa" : principal ? "step_up" : "sign_in";

/**
 * Passkeys (WebAuthn) with @simplewebauthn/server: registration for a signed-in user, and
 * authentication that signs in (aal2: possession plus user verification), finishes an MFA
 * sign-in, or steps a session up. Every challenge is single use and bound to its purpose.
 */
export class PasskeyService {
  constructor(private readonly d: PasskeyServiceDeps) {}

  /** Creation options for a new passkey of the signed-in user. */
  async registrationOptions(principal: Principal, client: ClientInfo): Promise<PasskeyOptionsResult> {
    this.assertEnabled();
    await this.d.limiter.consume("passkey:options:ip", ipLimitKey(client.ip), this.d.limits.optionsPerIp);
    const user = await this.changeableUser(principal, client, "passkey.registration_started");
    const existing = await this.d.passkeys.listByUser(user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER) throw new AuthError("BAD_USER_INPUT", `An account holds at most ${MAX_PASSKEYS_PER_USER} passkeys: remove one first.`);
    const name = user.email ?? user.phone ?? user.id;
    const options = await generateRegistrationOptions({
      rpName: this.d.rp.rpName,
      rpID: this.d.rp.rpId,
      userName: name,
      userDisplayName: name,
      userID: await this.d.passkeys.userHandle(user.id),
      timeout: this.d.timeoutSeconds * 1000,
      attestationType: this.d.attestation,
      authenticatorSelection: { residentKey: "required", userVerification: "required" },
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransportFuture[] })),
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      // Tells the page whether the browser made a discoverable credential.
      extensions: { credProps: true },
    });
    const challengeId = await this.d.challenges.put({ purpose: "register", challenge: options.challenge, userId: user.id, sessionId: principal.sessionId });
    await this.d.audit.record({ type: "passkey.registration_started", ok: true, userId: user.id, client });
    return { challengeId, optionsJson: JSON.stringify(options) };
  }

  /** Checks the browser's answer to registrationOptions and stores the passkey. */
  async add(principal: Principal, input: { challengeId: string; responseJson: string; name?: string | null }, client: ClientInfo): Promise<PasskeyRecord> {
    this.assertEnabled();
    // Checked before the challenge is spent: a typo in the name should not cost a new ceremony.
    const givenName = input.name == null ? null : cleanPasskeyName(input.name);
    if (input.name != null && givenName === null) throw badInput("name", "A passkey's name is 1 to 64 characters.");
    const response = parseResponse<RegistrationResponseJSON>(input.responseJson, "attestationObject");
    const challenge = await this.d.challenges.take(input.challengeId);
    if (!challenge || challenge.purpose !== "register" || challenge.userId !== principal.userId || challenge.sessionId !== principal.sessionId) {
      await this.audit("passkey.added", false, principal.userId, client, { reason: "challenge" });
      throw spent();
    }
    const user = await this.changeableUser(principal, client, "passkey.added");
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: this.d.rp.origins,
        // Without it the library would not check the rpId at all.
        expectedRPID: this.d.rp.rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      });
    } catch (error) {
      await this.audit("passkey.added", false, user.id, client, { reason: refusalReason(error) });
      throw responseRefused(error);
    }
    if (!verified.verified) {
      await this.audit("passkey.added", false, user.id, client, { reason: "attestation" });
      throw badInput("responseJson", "The passkey's registration could not be verified.");
    }
    const info = verified.registrationInfo;
    const added = await this.d.passkeys.add(
      {
        userId: user.id,
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        counter: info.credential.counter,
        transports: info.credential.transports ?? [],
        deviceType: info.credentialDeviceType,
        backupEligible: info.credentialDeviceType === "multiDevice",
        backupState: info.credentialBackedUp,
        aaguid: info.aaguid,
        name: givenName ?? passkeyNameFor(info.aaguid),
      },
      { liveSession: principal.sessionId },
    );
    if (added === "duplicate") {
      await this.audit("passkey.added", false, user.id, client, { reason: "duplicate" });
      throw badInput("responseJson", "This passkey is registered already.");
    }
    await this.audit("passkey.added", true, user.id, client, { passkeyId: added.id, aaguid: added.aaguid, backedUp: added.backupState });
    await this.notify(user, (email) => passkeyAddedMessage(email, this.d.appName, user.id, added.name));
    return added;
  }

  /**
   * Request options: sign-in (nobody signed in, no mfaToken) with no allowCredentials, so
   * the browser offers every passkey it holds for the site (also for autofill); an MFA step
   * (mfaToken) or a step-up (signed in) lists the account's own passkeys.
   */
  async authenticationOptions(input: { mfaToken?: string | null }, principal: Principal | null, client: ClientInfo): Promise<PasskeyOptionsResult> {
    this.assertEnabled();
    await this.d.limiter.consume("passkey:options:ip", ipLimitKey(client.ip), this.d.limits.optionsPerIp);
    const purpose = purposeOf(input.mfaToken, principal);
    let bound: Omit<PasskeyChallenge, "challenge" | "purpose"> = {};
    let allowed: PasskeyRecord[] = [];
    if (purpose === "mfa") {
      const grant = await this.d.sessions.resolveMfaToken(input.mfaToken!);
      allowed = await this.d.passkeys.listByUser(grant.userId);
      if (allowed.length === 0) throw badInput("mfaToken", "This account has no passkey: finish with another second factor.");
      bound = { userId: grant.userId, mfaJti: grant.jti };
    } else if (purpose === "step_up") {
      allowed = await this.d.passkeys.listByUser(principal!.userId);
      if (allowed.length === 0) throw new AuthError("BAD_USER_INPUT", "This account has no passkey: add one first, or step up with another factor.");
      bound = { userId: principal!.userId, sessionId: principal!.sessionId };
    }
    const options = await generateAuthenticationOptions({
      rpID: this.d.rp.rpId,
      allowCredentials: allowed.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransportFuture[] })),
      userVerification: "required",
      timeout: this.d.timeoutSeconds * 1000,
    });
    const challengeId = await this.d.challenges.put({ purpose, challenge: options.challenge, ...bound });
    return { challengeId, optionsJson: JSON.stringify(options) };
  }

  /** Checks an assertion and ends the ceremony its challenge was for. */
  async verify(input: { challengeId: string; responseJson: string; mfaToken?: string | null }, principal: Principal | null, client: ClientInfo): Promise<PasskeyVerification> {
    this.assertEnabled();
    await this.d.limiter.consume("passkey:verify:ip", ipLimitKey(client.ip), this.d.limits.verifyPerIp);
    const response = parseResponse<AuthenticationResponseJSON>(input.responseJson, "signature");
    const purpose = purposeOf(input.mfaToken, principal);
    const challenge = await this.d.challenges.take(input.challengeId);
    let grant: MfaGrant | null = null;
    if (purpose === "mfa") grant = await this.d.sessions.resolveMfaToken(input.mfaToken!);
    // A challenge finishes only the step it was issued for, for the token or session that asked.
    const boundHere =
      challenge !== null &&
      challenge.purpose === purpose &&
      (purpose !== "mfa" || challenge.mfaJti === grant!.jti) &&
      (purpose !== "step_up" || (challenge.sessionId === principal!.sessionId && challenge.userId === principal!.userId));
    if (!boundHere) {
      await this.audit("login.passkey", false, grant?.userId ?? principal?.userId ?? null, client, { purpose, reason: challenge ? "challenge_purpose" : "challenge_spent" });
      throw spent();
    }

    const passkey = await this.d.passkeys.findByCredentialId(response.id);
    if (!passkey) {
      await this.audit("login.passkey", false, challenge.userId ?? null, client, { purpose, reason: "unknown_credential" });
      throw notRegistered();
    }
    await this.d.limiter.consume("passkey:verify:user", passkey.userId, this.d.limits.verifyPerUser);
    if (challenge.userId !== undefined && challenge.userId !== passkey.userId) {
      await this.audit("login.passkey", false, challenge.userId, client, { purpose, reason: "other_account" });
      throw notThisAccount();
    }
    // The handle the authenticator stored with the credential must name the credential's owner.
    const handle = response.response.userHandle;
    if (purpose === "sign_in" && !handle) throw badInput("responseJson", "The passkey gave no user handle: a discoverable credential (passkey) is needed.");
    if (handle && (await this.d.passkeys.userOfHandle(base64url(handle))) !== passkey.userId) {
      await this.audit("login.passkey", false, passkey.userId, client, { purpose, reason: "user_handle_mismatch", passkeyId: passkey.id });
      throw notRegistered();
    }

    let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: this.d.rp.origins,
        expectedRPID: this.d.rp.rpId,
        // Counter 0 here: the counter rule (and its audit) is applied below, once the signature holds.
        credential: { id: passkey.credentialId, publicKey: passkey.publicKey, counter: 0, transports: passkey.transports as AuthenticatorTransportFuture[] },
        requireUserVerification: true,
      });
    } catch (error) {
      await this.audit("login.passkey", false, passkey.userId, client, { purpose, reason: refusalReason(error), passkeyId: passkey.id });
      throw responseRefused(error);
    }
    if (!result.verified) {
      await this.audit("login.passkey", false, passkey.userId, client, { purpose, reason: "signature", passkeyId: passkey.id });
      throw new AuthError("UNAUTHENTICATED", "The passkey's signature is not valid.");
    }
    const { newCounter, credentialBackedUp } = result.authenticationInfo;
    const moved = newCounter > passkey.counter || (newCounter === 0 && passkey.counter === 0);
    const recorded =
      moved && (await this.d.passkeys.recordUse(passkey.id, { expectedCounter: passkey.counter, counter: newCounter, backupState: credentialBackedUp, at: this.d.clock.now() }));
    if (!recorded) {
      // A counter that does not move forward: two devices hold the key (a clone), or a replay.
      await this.audit("passkey.counter_regressed", false, passkey.userId, client, { passkeyId: passkey.id, stored: passkey.counter, presented: newCounter });
      throw new AuthError("UNAUTHENTICATED", "This passkey could not be trusted: its signature counter went backwards, as a copied key's would. Sign in another way.");
    }
    const user = await this.d.users.findById(passkey.userId);
    if (!user) throw notRegistered();
    await this.d.limiter.reset("passkey:verify:user", user.id);
    await this.audit("login.passkey", true, user.id, client, { purpose, passkeyId: passkey.id });

    // RFC 8176: a synced passkey is a software-secured key, a device-bound one hardware-secured.
    const factor: Factor = { amr: credentialBackedUp ? "swk" : "hwk", authenticator: "passkey" };
    if (purpose === "step_up") return { kind: "stepped_up", tokens: await this.d.sessions.stepUp(principal!, factor.amr, client), userId: user.id };
    if (purpose === "mfa") return { kind: "signed_in", result: await this.d.sessions.completeSecondFactor(user, grant!, factor, client) };
    return { kind: "signed_in", result: await this.d.sessions.completeMultiFactor(user, factor, client) };
  }

  list(userId: string): Promise<PasskeyRecord[]> {
    return this.d.passkeys.listByUser(userId);
  }

  /** Renames a passkey: the same recent sign-in as removing one (a stolen session should not relabel them). */
  async rename(principal: Principal, id: string, name: string, client: ClientInfo): Promise<PasskeyRecord> {
    const clean = cleanPasskeyName(name);
    if (clean === null) throw badInput("name", "A passkey's name is 1 to 64 characters.");
    await this.changeableUser(principal, client, "passkey.renamed", { toAdd: false });
    const renamed = await this.d.passkeys.rename(principal.userId, id, clean, { liveSession: principal.sessionId });
    if (!renamed) throw noSuchPasskey();
    await this.audit("passkey.renamed", true, principal.userId, client, { passkeyId: id });
    return renamed;
  }

  /** Removes a passkey (a recent sign-in), never the account's last way in. */
  async remove(principal: Principal, id: string, client: ClientInfo): Promise<boolean> {
    for (let attempt = 0; attempt < WAY_REMOVAL_ATTEMPTS; attempt++) {
      const user = await this.changeableUser(principal, client, "passkey.removed", { toAdd: false });
      const passkeys = await this.d.passkeys.listByUser(user.id);
      const passkey = passkeys.find((p) => p.id === id);
      if (!passkey) throw noSuchPasskey();
      // Without another way in (a password, a proven address, an identity: the methods count
      // them), the other passkeys are the only way back in.
      const otherWayIn = (await this.d.waysIn(user)) - (this.d.enabled ? passkeys.length : 0) > 0;
      const outcome = await this.d.passkeys.remove(user.id, id, { keepOne: !otherWayIn, liveSession: principal.sessionId, waysInVersion: user.waysInVersion });
      if (outcome === "not_found") throw noSuchPasskey();
      if (outcome === "last") {
        await this.audit("passkey.removed", false, user.id, client, { passkeyId: id, reason: "last_way_in" });
        throw badInput("id", "This is the account's last way to sign in: add a password, an email address or another passkey first.");
      }
      if (outcome === "removed") {
        await this.audit("passkey.removed", true, user.id, client, { passkeyId: id });
        await this.notify(user, (email) => passkeyRemovedMessage(email, this.d.appName, user.id, passkey.name));
        return true;
      }
      // "changed": another way in was removed meanwhile (an identity unlinked, say); count again.
    }
    throw new Error("ways in changed concurrently too often");
  }

  /**
   * The caller's account, when this session may change it: a recent sign-in (aal2 with
   * TOTP on), as for a password or contact change; to add a passkey, also a proven address.
   */
  private async changeableUser(principal: Principal, client: ClientInfo, event: string, opts = { toAdd: true }): Promise<UserRecord> {
    const user = await this.d.users.findById(principal.userId);
    if (!user) throw new AuthError("UNAUTHENTICATED");
    await this.d.sessions.assertMayChangeAccount(principal, user, "manage passkeys", { type: event, client });
    if (opts.toAdd && !hasProvenContact(user)) {
      // An unproven account may be claimed by the address's owner: a passkey must not outlive that.
      await this.audit(event, false, user.id, client, { reason: "no_proven_contact" });
      throw new AuthError("FORBIDDEN", "Prove your email address or phone number first (with a code or a link), then add a passkey.");
    }
    return user;
  }

  private assertEnabled(): void {
    if (!this.d.enabled) throw notAvailable();
  }

  private audit(type: string, ok: boolean, userId: string | null, client: ClientInfo, detail?: Record<string, unknown>): Promise<void> {
    return this.d.audit.record({ type, ok, userId, client, detail });
  }

  /** A notice to the owner's proven email, as password changes send. */
  private async notify(user: UserRecord, message: (email: string) => OutgoingMessage): Promise<void> {
    if (user.email && user.emailVerified) await this.d.delivery.enqueue(message(user.email));
  }
}

const base64url = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64url"));

/** credential.toJSON() as the browser gives it, or BAD_USER_INPUT on responseJson. */
function parseResponse<T extends RegistrationResponseJSON | AuthenticationResponseJSON>(json: string, field: "attestationObject" | "signature"): T {
  const unreadable = () => badInput("responseJson", "responseJson must be the browser's credential.toJSON(), as a JSON string.");
  if (json.length > MAX_RESPONSE_CHARS) throw unreadable();
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw unreadable();
  }
  const v = value as { id?: unknown; type?: unknown; response?: Record<string, unknown> };
  if (typeof v !== "object" || v === null || typeof v.id !== "string" || v.type !== "public-key" || typeof v.response !== "object" || v.response === null) throw unreadable();
  if (typeof v.response[field] !== "string" || typeof v.response.clientDataJSON !== "string") {
    throw badInput("responseJson", field === "signature" ? "That is a registration's answer: verifyPasskey takes navigator.credentials.get()'s." : "That is a sign-in's answer: addPasskey takes navigator.credentials.create()'s.");
  }
  return value as T;
}

/** A short, stable name for what the library refused, for the audit trail. */
function refusalReason(error: unknown): string {
  const m = error instanceof Error ? error.message : "";
  if (/origin/i.test(m)) return "origin";
  if (/RP ID/i.test(m)) return "rp_id";
  if (/User verification/i.test(m)) return "user_verification";
  if (/not present|presence/i.test(m)) return "user_presence";
  if (/challenge/i.test(m)) return "challenge";
  if (/alg/i.test(m)) return "algorithm";
  return "malformed";
}

/** The library's refusal as the contract's BAD_USER_INPUT on responseJson, in words a developer can act on. */
function responseRefused(error: unknown): AuthError {
  const messages: Record<string, string> = {
    origin: "The passkey answered a page of another origin than this site's (PASSKEY_ORIGINS).",
    rp_id: "The passkey is bound to another site (rpId) than this one.",
    user_verification: "The passkey did not verify the user (PIN, fingerprint or face): user verification is required.",
    user_presence: "The passkey did not confirm the user was present.",
    challenge: "The answer is for another challenge than challengeId's.",
    algorithm: "This passkey's key type is not supported (ES256 or RS256 only).",
    malformed: "The passkey's answer could not be read: send credential.toJSON() as it is.",
  };
  return badInput("responseJson", messages[refusalReason(error)]);
}
