import type { SpineSettings } from "../../config/settings";
import { WAY_REMOVAL_ATTEMPTS, type Factor, type WaysIn } from "../../core/auth-method";
import type { AuthResult, Principal } from "../../core/auth";
import { ipLimitKey } from "../../core/client-info";
import { normalizeEmail } from "../../core/contact";
import { checkClientState, checkRedirectUrl } from "../../core/redirect";
import { AuthError, badInput, UNAVAILABLE_RETRY_AFTER_SECONDS } from "../../core/errors";
import type { AuditLog, ClientInfo, Clock, SessionRepo, UserRecord, UserRepo } from "../../core/ports";
import type { RateLimiter } from "../../core/rate-limit";
import type { SessionService } from "../../sessions/session.service";
import { randomSecret as secret } from "../../sessions/tokens";
import type { AccountService, ProvenAccount } from "../../users/account.service";
import type { IdentityRecord, IdentityRepo, ProviderProfile } from "./identity.repo";
import type { SocialSettings } from "./social.settings";
import type { PendingAuthorization, SocialStore } from "./social.store";
import { ID_TOKEN_LEEWAY_SECONDS, ProviderError, type Upstream } from "./social.upstream";

export type SocialServiceSettings = Pick<SocialSettings, "signUp" | "stateTtlSeconds" | "limits"> & Pick<SpineSettings, "publicUrl" | "allowedOrigins" | "redirectUrls">;

export interface SocialServiceDeps {
  /** The enabled providers by id, in the order the buttons show. */
  upstreams: ReadonlyMap<string, Upstream>;
  identities: IdentityRepo;
  users: UserRepo;
  accounts: AccountService;
  sessions: SessionService;
  /** The session rows, to tell a link callback whose session ended. */
  sessionRecords: Pick<SessionRepo, "findById">;
  store: SocialStore;
  limiter: RateLimiter;
  audit: AuditLog;
  clock: Clock;
  log: { warn(obj: object, msg: string): void };
  waysIn: WaysIn;
  settings: SocialServiceSettings;
}

type StartInput = { provider: string; redirectUrl: string; state: string };

const identityInUse = (providerName: string) =>
  badInput("code", `That ${providerName} account is already linked to another account here, so it was not linked.`);

/** An exchange (or link) code lives just long enough for the app to trade it. */
const EXCHANGE_CODE_TTL_MS = 60_000;
const MAX_ATTEMPTS = 3;

/**
 * RFC 8176 has no value for a sign-in vouched for by another identity provider: "fed" is
 * ours (federated). The authenticator names the provider, so a second factor differs from it;
 * when the provider's account has the account's email it is taken to reach that mailbox too
 * (a Google account reads its Gmail), so an email code is no second factor after it.
 */
export const socialFactor = (provider: string, sameMailbox = false): Factor => ({
  amr: "fed",
  authenticator: `identity:${provider}`,
  ...(sameMailbox && { alsoProves: ["email"] }),
});

/** The provider's account names the account's email (verified by it or not: the safe side). */
const reachesMailbox = (user: UserRecord, email: string | null) => email !== null && user.email === email;

/** What the callback route does next: send the browser on, or show a page. */
export type CallbackOutcome = { redirect: string } | { page: { status: 400; title: string; text: string } };

/** The callback's `error=` values beside the providers' own (README, "Social sign-in"). */
export type CallbackError = ProviderError["reason"] | "signup_disabled" | "identity_in_use" | "session_ended";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SocialService {
  constructor(private readonly d: SocialServiceDeps) {}

  /** The configured providers, for "Continue with …" buttons. */
  providers(): Array<{ id: string; name: string }> {
    return [...this.d.upstreams.values()].map(({ config }) => ({ id: config.id, name: config.name }));
  }

  identitiesOf(userId: string): Promise<IdentityRecord[]> {
    return this.d.identities.listByUser(userId);
  }

  /** The provider's authorization URL for a browser sign-in. */
  start(input: StartInput, client: ClientInfo): Promise<string> {
    return this.authorize("sign_in", input, client);
  }

  /** The same for linking an identity to the signed-in account (recent sign-in; aal2 with TOTP on). */
  async startLink(principal: Principal, input: StartInput, client: ClientInfo): Promise<string> {
    const user = await this.d.users.findById(principal.userId);
    if (!user) throw new AuthError("UNAUTHENTICATED");
    // A known provider first: its id, not whatever the client sent, goes into the audit row.
    const provider = this.upstream(input.provider).config.id;
    await this.d.sessions.assertMayChangeAccount(principal, user, "link another way to sign in", { type: "identity.linked", client, detail: { provider } });
    return this.authorize("link", input, client, principal);
  }

  private async authorize(
    purpose: PendingAuthorization["purpose"],
    input: StartInput,
    client: ClientInfo,
    principal?: Principal,
  ): Promise<string> {
    const upstream = this.upstream(input.provider);
    const redirectUrl = checkRedirectUrl(input.redirectUrl, this.d.settings);
    const clientState = requiredClientState(input.state);
    await this.d.limiter.consume("social:start:ip", ipLimitKey(client.ip), this.d.settings.limits.startPerIp);
    const checks = { redirectUri: this.callbackUrl(upstream.config.id), state: secret(), nonce: secret(), codeVerifier: secret() };
    let url: string;
    try {
      url = await upstream.authorizationUrl(checks);
    } catch (e) {
      throw this.unavailable(e, upstream.config.id);
    }
    // Stored last: a start that failed leaves nothing behind.
    await this.d.store.putAuthorization(
      checks.state,
      { purpose, provider: upstream.config.id, codeVerifier: checks.codeVerifier, nonce: checks.nonce, redirectUrl, clientState, userId: principal?.userId, sessionId: principal?.sessionId },
      this.d.settings.stateTtlSeconds * 1000,
    );
    return url;
  }

  /**
   * The provider sent the browser back. An unknown, used or expired state signs nobody in
   * and goes nowhere (a page); everything else returns to the app's redirectUrl with a
   * one-time `code=` (sign-in) or `link_code=` (link), or `error=`, and the app's own state.
   */
  async callback(providerId: string, params: URLSearchParams, client: ClientInfo): Promise<CallbackOutcome> {
    const state = params.get("state");
    const pending = state && state.length <= 256 ? await this.d.store.takeAuthorization(state) : null;
    const upstream = this.d.upstreams.get(providerId);
    if (!pending || !upstream || pending.provider !== providerId) {
      return { page: { status: 400, title: "This sign-in can't be used", text: "It expired, was used already, or was not started here. Go back to the app and sign in again." } };
    }
    const back = (fields: Record<string, string>) => ({ redirect: withParams(pending.redirectUrl, fields, pending.clientState) });
    const event = pending.purpose === "link" ? "identity.linked" : "login.social";
    const fail = async (reason: CallbackError, detail: Record<string, unknown> = {}) => {
      await this.d.audit.record({ type: event, ok: false, userId: pending.userId ?? null, client, detail: { provider: providerId, reason } });
      if (reason === "temporarily_unavailable" || reason === "server_error" || reason === "invalid_id_token") {
        this.d.log.warn({ ...detail, provider: providerId, reason }, "social sign-in failed at the provider");
      }
      return back({ error: reason });
    };

    const denied = params.get("error");
    if (denied !== null) return fail(denied === "access_denied" || denied === "temporarily_unavailable" ? denied : "server_error", { error: denied.slice(0, 64) });

    let profile: ProviderProfile;
    try {
      profile = await upstream.exchange(params, { redirectUri: this.callbackUrl(providerId), state: state!, nonce: pending.nonce, codeVerifier: pending.codeVerifier });
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      return fail(e.reason, e.detail);
    }
    profile = withValidEmail(profile);

    if (pending.purpose === "link") {
      // Not linked here: whoever's browser this is may not be whoever started the link (an
      // attacker can send their own authorization URL to a victim who consented before).
      // Only the session that started it can redeem the code (completeLinkIdentity).
      const refusal = await this.linkRefusal(pending.userId!, pending.sessionId!, profile);
      if (refusal) return fail(refusal);
      const linkCode = secret();
      await this.d.store.putLinkGrant(linkCode, { userId: pending.userId!, sessionId: pending.sessionId!, profile }, EXCHANGE_CODE_TTL_MS);
      return back({ link_code: linkCode });
    }
    const account = await this.resolveAccount(profile, client);
    if (!account) return fail("signup_disabled");
    const code = secret();
    await this.d.store.putGrant(
      code,
      { userId: account.user.id, provider: providerId, subject: profile.subject, isNewUser: account.isNewUser, credentialsVersion: account.user.credentialsVersion, sameMailbox: reachesMailbox(account.user, profile.email) },
      EXCHANGE_CODE_TTL_MS,
    );
    return back({ code });
  }

  /** Trades the callback's one-time code for a sign-in (MFA_REQUIRED with TOTP on). */
  async complete(code: string, client: ClientInfo): Promise<AuthResult> {
    await this.d.limiter.consume("social:complete:ip", ipLimitKey(client.ip), this.d.settings.limits.completePerIp);
    const grant = code.length <= 128 ? await this.d.store.takeGrant(code) : null;
    const user = grant && (await this.d.users.findById(grant.userId));
    // The identity must still sign in to that account: an unlink since leaves the code nothing.
    const identity = grant && user && typeof grant.subject === "string" ? await this.d.identities.find(grant.provider, grant.subject) : null;
    if (!grant || !user || identity?.userId !== user.id) {
      throw new AuthError("INVALID_CODE", "This sign-in code is not valid, has expired or was used already. Sign in again.");
    }
    // The account as it was at the callback: a claim since then makes no session.
    return this.d.sessions.completeFirstFactor({ ...user, credentialsVersion: grant.credentialsVersion }, socialFactor(grant.provider, grant.sameMailbox), client, grant.isNewUser);
  }

  /** A native app's id_token, checked like the browser flow's, then the same account rules. */
  async signInWithIdToken(input: { provider: string; idToken: string; nonce: string }, client: ClientInfo): Promise<AuthResult> {
    const upstream = this.upstream(input.provider);
    if (!upstream.idTokens) throw badInput("provider", `${upstream.config.name} has no id_tokens for apps: use startSocialSignIn.`);
    if (input.nonce.length === 0 || input.nonce.length > 256) throw badInput("nonce", "Give the nonce the id_token was requested with (1 to 256 characters).");
    await this.d.limiter.consume("social:id-token:ip", ipLimitKey(client.ip), this.d.settings.limits.idTokenPerIp);
    const provider = upstream.config.id;
    const refuse = async (reason: string, message: string) => {
      await this.d.audit.record({ type: "login.social", ok: false, client, detail: { provider, reason } });
      return new AuthError("UNAUTHENTICATED", message);
    };
    const now = this.d.clock.now().getTime();
    let verified;
    try {
      verified = await upstream.idTokens.verify(input.idToken, input.nonce, now);
    } catch (e) {
      if (e instanceof ProviderError && e.reason === "invalid_id_token") throw await refuse("invalid_id_token", e.message);
      throw this.unavailable(e, provider);
    }
    // A nonce is spent for as long as the token it came with could be replayed. The token's
    // claim is what is spent: the app's raw nonce and its hash (which the claim may be) are one use.
    if (!(await this.d.store.spendNonce(provider, verified.nonceClaim, verified.expiresAt - now + ID_TOKEN_LEEWAY_SECONDS * 1000))) {
      throw await refuse("nonce_replayed", "This nonce was used already: make a new one for every sign-in.");
    }
    const profile = withValidEmail(verified.profile);
    const account = await this.resolveAccount(profile, client);
    if (!account) throw await refuse("signup_disabled", "No account uses this sign-in, and sign-up is closed.");
    return this.d.sessions.completeFirstFactor(account.user, socialFactor(provider, reachesMailbox(account.user, profile.email)), client, account.isNewUser);
  }

  /** Unlinks one of the caller's identities (recent sign-in); never the last way in. */
  async unlink(principal: Principal, id: string, client: ClientInfo): Promise<boolean> {
    const noSuch = () => badInput("id", "No such identity on your account.");
    if (!UUID.test(id)) throw noSuch();
    for (let attempt = 0; attempt < WAY_REMOVAL_ATTEMPTS; attempt++) {
      const user = await this.d.users.findById(principal.userId);
      if (!user) throw new AuthError("UNAUTHENTICATED");
      await this.d.sessions.assertMayChangeAccount(principal, user, "unlink a way to sign in");
      const identity = (await this.d.identities.listByUser(user.id)).find((i) => i.id === id);
      if (!identity) throw noSuch();
      // One of a provider taken out of the settings is no way in (waysIn leaves it out): it may always go.
      const isWayIn = this.d.upstreams.has(identity.provider);
      if (isWayIn && (await this.d.waysIn(user)) <= 1) {
        await this.d.audit.record({ type: "identity.unlinked", ok: false, userId: user.id, client, detail: { provider: identity.provider, reason: "last_way_in" } });
        throw badInput("id", "This is the only way to sign in to your account: add a password, a verified email or another provider first.");
      }
      const removed = await this.d.identities.remove(id, user.id, { liveSession: principal.sessionId, waysInVersion: user.waysInVersion });
      if (removed === "missing") throw noSuch();
      if (removed === "removed") {
        await this.d.audit.record({ type: "identity.unlinked", ok: true, userId: user.id, client, detail: { provider: identity.provider, identityId: id } });
        return true;
      }
      // "changed": a way in was removed meanwhile; count them again.
    }
    throw new Error("ways in changed concurrently too often");
  }

  /**
   * The account an identity signs in to. A known one: its account. A new one with an email
   * the provider verified and is trusted for: the account where that email is proven (or
   * claimed, or a new one: AccountService's pre-account rules). Otherwise an account of its
   * own. Null when that would be a new account and sign-up is off.
   */
  private async resolveAccount(profile: ProviderProfile, client: ClientInfo): Promise<ProvenAccount | null> {
    const { provider } = profile;
    const trusted = profile.email !== null && profile.emailVerified && this.d.upstreams.get(provider)!.config.trustEmail;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.d.clock.now();
      const known = await this.d.identities.find(provider, profile.subject);
      if (known) {
        const user = await this.d.users.findById(known.userId);
        if (!user) continue; // deleted meanwhile: a new identity now
        await this.d.identities.touch(known.id, profile, now);
        await this.d.audit.record({ type: "login.social", ok: true, userId: user.id, client, detail: { provider } });
        return { user, isNewUser: false };
      }
      if (trusted) {
        const account = await this.d.accounts.accountForProvenContact({ kind: "email", address: profile.email! }, client, {
          signUp: this.d.settings.signUp,
          method: "social",
          detail: { provider },
        });
        if (!account) return null;
        const attached = await this.d.identities.attach(account.user.id, profile, now);
        // A concurrent first sign-in with this identity attached it: read it again.
        if (attached.status === "taken") continue;
        await this.d.audit.record({ type: "identity.linked", ok: true, userId: account.user.id, client, detail: { provider, via: "verified_email" } });
        return account;
      }
      if (!this.d.settings.signUp) return null;
      const created = await this.d.identities.createWithUser(profile, now);
      if (!created) continue;
      const user = await this.d.users.findById(created.userId);
      if (!user) continue;
      // As for every method, a sign-up is one user.signed_up event (no login.* beside it).
      await this.d.audit.record({ type: "user.signed_up", ok: true, userId: user.id, client, detail: { method: "social", provider } });
      return { user, isNewUser: true };
    }
    throw new Error("identity changed concurrently too often");
  }

  /**
   * Trades a link code for the identity the callback resolved, attached to the caller's
   * account: only the session that started linkIdentity redeems it, and only while it is live.
   */
  async completeLink(principal: Principal, code: string, client: ClientInfo): Promise<IdentityRecord> {
    await this.d.limiter.consume("social:complete:ip", ipLimitKey(client.ip), this.d.settings.limits.completePerIp);
    const grant = code.length <= 128 ? await this.d.store.takeLinkGrant(code) : null;
    const provider = grant?.profile.provider;
    // Audited on the account the link was for (a refused redemption is someone else's session).
    const fail = async (reason: string) => {
      await this.d.audit.record({ type: "identity.linked", ok: false, userId: grant!.userId, client, detail: { provider, reason } });
    };
    if (!grant || grant.userId !== principal.userId || grant.sessionId !== principal.sessionId) {
      // Another session's code is spent and refused alike: it says nothing about whose it was.
      if (grant) await fail("other_session");
      throw new AuthError("INVALID_CODE", "This link code is not valid, has expired or was used already. Link the provider again.");
    }
    const { profile } = grant;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let attached;
      try {
        attached = await this.d.identities.attach(principal.userId, profile, this.d.clock.now(), { liveSession: principal.sessionId });
      } catch (e) {
        if (e instanceof AuthError && e.code === "UNAUTHENTICATED") await fail("session_ended");
        throw e;
      }
      if (attached.status === "linked") {
        await this.d.audit.record({ type: "identity.linked", ok: true, userId: principal.userId, client, detail: { provider, identityId: attached.identity.id } });
        return attached.identity;
      }
      if (attached.userId !== "" && attached.userId !== principal.userId) {
        await fail("identity_in_use");
        throw identityInUse(this.d.upstreams.get(profile.provider)?.config.name ?? profile.provider);
      }
      // Linked to this account already (a second link of the same one): as good as linked.
      const known = await this.d.identities.find(profile.provider, profile.subject);
      if (known?.userId === principal.userId) return this.d.identities.touch(known.id, profile, this.d.clock.now());
      // Unlinked again in between: attach once more.
    }
    throw new Error("identity changed concurrently too often");
  }

  /** Why a link callback goes no further: the session that asked ended, or the identity signs in to another account. */
  private async linkRefusal(userId: string, sessionId: string, profile: ProviderProfile): Promise<CallbackError | null> {
    const session = await this.d.sessionRecords.findById(sessionId);
    if (!session || session.userId !== userId || session.revokedAt !== null || session.expiresAt <= this.d.clock.now()) return "session_ended";
    const known = await this.d.identities.find(profile.provider, profile.subject);
    return known && known.userId !== userId ? "identity_in_use" : null;
  }

  private upstream(id: string): Upstream {
    const upstream = this.d.upstreams.get(id);
    if (!upstream) throw badInput("provider", `No provider "${id.slice(0, 40)}" is configured: see identityProviders.`);
    return upstream;
  }

  /** Where the provider sends the browser back: register exactly this at the provider. */
  callbackUrl(provider: string): string {
    return `${this.d.settings.publicUrl}/auth/social/${provider}/callback`;
  }

  /** A provider down or slow (or misconfigured, which the log tells) as UNAVAILABLE. */
  private unavailable(e: unknown, provider: string): AuthError {
    const detail = e instanceof ProviderError ? e.detail : { error: (e as Error)?.name };
    this.d.log.warn({ ...detail, provider, reason: e instanceof ProviderError ? e.reason : "server_error" }, "social provider unavailable");
    return new AuthError("UNAVAILABLE", `Sign-in with ${this.d.upstreams.get(provider)?.config.name ?? provider} is unavailable for a moment. Try again shortly.`, {
      retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS,
    });
  }
}

/** Required here (what binds the callback to the browser that started it), then checked as a magic link's. */
function requiredClientState(state: string): string {
  if (state.length === 0) throw badInput("state", "Give a random value of your own: store it before redirecting and compare it when the browser comes back.");
  return checkClientState(state);
}

/** The provider's email as an account would hold it, or none when it is not an address (then not verified either). */
function withValidEmail(profile: ProviderProfile): ProviderProfile {
  let email: string | null = null;
  try {
    email = profile.email === null ? null : normalizeEmail(profile.email);
  } catch {
    // Not an address: the identity keeps no email.
  }
  return { ...profile, email, emailVerified: profile.emailVerified && email !== null };
}

function withParams(base: string, fields: Record<string, string>, clientState: string): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
  url.searchParams.set("state", clientState);
  return url.href;
}
