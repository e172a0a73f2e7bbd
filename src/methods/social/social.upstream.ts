import { createHash } from "node:crypto";
import { createRemoteJWKSet, errors as joseErrors, importPKCS8, jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { Configuration, IDToken } from "openid-client" with { "resolution-mode": "import" };
import { withinDeadline } from "../../core/deadline";
import type { GithubProviderConfig, OidcProviderConfig, ProviderConfig } from "./social.settings";
import type { ProviderProfile } from "./identity.repo";

/**
 * The providers' side of a sign-in: authorization URLs, the code exchange and the id_token
 * checks (openid-client, ESM-only, loaded with import() in this CommonJS build), GitHub's
 * user API, and the native apps' id_tokens (jose). Nothing here touches accounts.
 */
type OpenIdClient = typeof import("openid-client", { with: { "resolution-mode": "import" } });

let loaded: Promise<OpenIdClient> | undefined;
/** Loaded on first use: the gateway starts without it, as it starts with a provider down. */
const openIdClient = (): Promise<OpenIdClient> => (loaded ??= import("openid-client"));

/** Why a provider step failed, as the callback's `error=` and the audit trail name it. */
export type ProviderFailure = "access_denied" | "temporarily_unavailable" | "invalid_id_token" | "server_error";

export class ProviderError extends Error {
  constructor(
    readonly reason: ProviderFailure,
    message: string,
    /** For the log: the library's error name and code, never a token. */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

export interface AuthorizationChecks {
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface Upstream {
  readonly config: ProviderConfig;
  /** The provider's authorization URL: code flow, PKCE S256, state, nonce (OpenID only). */
  authorizationUrl(checks: AuthorizationChecks): Promise<string>;
  /** The callback's parameters (query, or Apple's form_post) traded for who signed in; ProviderError otherwise. */
  exchange(params: URLSearchParams, checks: AuthorizationChecks): Promise<ProviderProfile>;
  /** A native app's id_token, checked as the code flow's is; null when this provider has none (GitHub). */
  readonly idTokens: IdTokenVerifier | null;
}

export interface VerifiedIdToken {
  profile: ProviderProfile;
  /** exp, in ms since the epoch: a nonce is remembered until then. */
  expiresAt: number;
  /** The token's own nonce claim: what is spent, however the app spelled it (clear or SHA-256 hex). */
  nonceClaim: string;
}

/** The longest clock difference an id_token's exp and iat are allowed. */
export const ID_TOKEN_LEEWAY_SECONDS = 30;

/** The upstream for a provider's settings. */
export function upstreamFor(config: ProviderConfig, timeoutMs: number): Upstream {
  return config.kind === "github" ? new GithubUpstream(config, timeoutMs) : new OidcUpstream(config, timeoutMs);
}

/** Any error of a provider request, as a ProviderError with a reason a person can act on. */
export function providerFailure(e: unknown, provider: string): ProviderError {
  if (e instanceof ProviderError) return e;
  const err = e as { name?: string; code?: string; error?: string; message?: string; cause?: unknown };
  const detail = { provider, error: err?.name, code: err?.code ?? err?.error };
  if (err?.name === "AuthorizationResponseError") {
    return err.error === "access_denied"
      ? new ProviderError("access_denied", "The sign-in was cancelled at the provider.", detail)
      : new ProviderError("server_error", `The provider refused the sign-in (${err.error}).`, detail);
  }
  if (isUnreachable(e)) return new ProviderError("temporarily_unavailable", `${provider} did not answer in time or could not be reached.`, detail);
  if (err?.code && ["OAUTH_JWT_CLAIM_COMPARISON_FAILED", "OAUTH_JWT_TIMESTAMP_CHECK_FAILED", "OAUTH_KEY_SELECTION_FAILED"].includes(err.code)) {
    return new ProviderError("invalid_id_token", "The provider's id_token did not pass its checks.", detail);
  }
  if (err?.code === "OAUTH_INVALID_RESPONSE" && /JWT|signature/i.test(err.message ?? "")) {
    return new ProviderError("invalid_id_token", "The provider's id_token did not pass its checks.", detail);
  }
  return new ProviderError("server_error", "The provider's answer could not be used.", detail);
}

/** A timeout, a refused connection, or a provider answering 5xx. */
function isUnreachable(e: unknown): boolean {
  for (let cur = e as { name?: string; code?: string; cause?: unknown } | undefined, depth = 0; cur && depth < 5; cur = cur.cause as typeof cur, depth++) {
    if (cur.name === "TimeoutError" || cur.name === "AbortError") return true;
    if (cur.code && ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_SOCKET", "ERR_JWKS_TIMEOUT"].includes(cur.code)) return true;
    if (cur.name === "TypeError" && /fetch failed/.test((cur as Error).message)) return true;
    if (cur instanceof Response && cur.status >= 500) return true;
  }
  return false;
}

/** Providers' email_verified: a boolean, or Apple's "true" / "false" strings. */
const isTrue = (v: unknown) => v === true || v === "true";
const emailOf = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" && v.length <= 254 ? v.trim().toLowerCase() : null);

function profileOf(provider: string, claims: Record<string, unknown>): ProviderProfile {
  const email = emailOf(claims.email);
  return { provider, subject: String(claims.sub), email, emailVerified: email !== null && isTrue(claims.email_verified) };
}

/** An OpenID provider by discovery (Google, Apple, Microsoft, generic ones). */
class OidcUpstream implements Upstream {
  private discovered?: Promise<Configuration>;
  private appleSecret?: { jwt: string; renewAt: number; config: Configuration };
  readonly idTokens: IdTokenVerifier | null;

  constructor(
    readonly config: OidcProviderConfig,
    private readonly timeoutMs: number,
  ) {
    this.idTokens = config.idTokenSignIn ? new IdTokenVerifier(config, () => this.configuration(), timeoutMs) : null;
  }

  /** Discovery, once; a failure is not cached, so the next sign-in tries again. */
  configuration(): Promise<Configuration> {
    this.discovered ??= this.discover().catch((e) => {
      this.discovered = undefined;
      throw providerFailure(e, this.config.id);
    });
    return this.discovered;
  }

  private async discover(): Promise<Configuration> {
    const oidc = await openIdClient();
    const { clientId, clientSecret, insecure } = this.config;
    const config = await oidc.discovery(new URL(this.config.issuer), clientId, clientSecret ?? undefined, undefined, {
      timeout: this.timeoutMs / 1000,
      // Only ever true outside production (the settings refuse http:// issuers there).
      ...(insecure && { execute: [oidc.allowInsecureRequests] }),
    });
    config.timeout = this.timeoutMs / 1000;
    return config;
  }

  async authorizationUrl(checks: AuthorizationChecks): Promise<string> {
    const oidc = await openIdClient();
    const config = await this.configuration();
    const scope = this.config.scopes.join(" ");
    const params: Record<string, string> = {
      redirect_uri: checks.redirectUri,
      response_type: "code",
      scope,
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: "S256",
    };
    // Apple sends name and email only with a form_post to the callback.
    if (this.config.apple && /\b(name|email)\b/.test(scope)) params.response_mode = "form_post";
    return oidc.buildAuthorizationUrl(config, params).href;
  }

  async exchange(params: URLSearchParams, checks: AuthorizationChecks): Promise<ProviderProfile> {
    try {
      return await withinDeadline(this.timeoutMs, () => this.exchangeCode(params, checks));
    } catch (e) {
      throw providerFailure(e, this.config.id);
    }
  }

  private async exchangeCode(params: URLSearchParams, checks: AuthorizationChecks): Promise<ProviderProfile> {
    const oidc = await openIdClient();
    const config = await this.tokenConfiguration();
    const callback = new URL(checks.redirectUri);
    for (const [k, v] of params) callback.searchParams.append(k, v);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims() as (IDToken & Record<string, unknown>) | undefined;
    if (!claims) throw new ProviderError("invalid_id_token", "The provider sent no id_token.", { provider: this.config.id });
    let profile = profileOf(this.config.id, claims);
    // Some providers keep the email out of the id_token: userinfo has it.
    if (profile.email === null && config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      profile = profileOf(this.config.id, { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), sub: claims.sub });
    }
    return profile;
  }

  /** The discovered configuration; for Apple with the current signed client secret. */
  private async tokenConfiguration(): Promise<Configuration> {
    const base = await this.configuration();
    const apple = this.config.apple;
    if (!apple) return base;
    const now = Date.now();
    if (this.appleSecret && this.appleSecret.renewAt > now) return this.appleSecret.config;
    const oidc = await openIdClient();
    const jwt = await appleClientSecret(this.config.clientId, apple, now);
    const config = new oidc.Configuration(base.serverMetadata(), this.config.clientId, jwt, oidc.ClientSecretPost(jwt));
    config.timeout = this.timeoutMs / 1000;
    this.appleSecret = { jwt, config, renewAt: now + APPLE_SECRET_RENEW_MS };
    return config;
  }
}

/** Apple accepts client secrets for up to 6 months; a fresh one each day keeps a leaked one short-lived. */
const APPLE_SECRET_TTL_SECONDS = 2 * 86400;
const APPLE_SECRET_RENEW_MS = 86400_000;

/** Sign in with Apple's client secret: an ES256 JWT signed with the team's key (Apple's "Creating a client secret"). */
export async function appleClientSecret(clientId: string, apple: NonNullable<OidcProviderConfig["apple"]>, nowMs: number): Promise<string> {
  const key = await importPKCS8(apple.privateKeyPem, "ES256");
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: apple.keyId })
    .setIssuer(apple.teamId)
    .setSubject(clientId)
    .setAudience("https://appleid.apple.com")
    .setIssuedAt(iat)
    .setExpirationTime(iat + APPLE_SECRET_TTL_SECONDS)
    .sign(key);
}

/**
 * Native apps' id_tokens (Google One Tap, Sign in with Apple on iOS): signature by the
 * provider's JWKS (cached by jose), iss, aud ∈ client id ∪ audiences, exp, and a nonce the
 * app chose, given in clear or, as Apple's native SDK sends it, as its SHA-256 hex.
 */
export class IdTokenVerifier {
  private jwks?: { uri: string; get: ReturnType<typeof createRemoteJWKSet> };

  constructor(
    private readonly config: OidcProviderConfig,
    private readonly discovered: () => Promise<Configuration>,
    private readonly timeoutMs: number,
  ) {}

  /** Discovery and the JWKS within one SOCIAL_PROVIDER_TIMEOUT_MS (withinDeadline). */
  verify(idToken: string, nonce: string, nowMs: number): Promise<VerifiedIdToken> {
    return withinDeadline(this.timeoutMs, () => this.check(idToken, nonce, nowMs)).catch((e) => {
      throw providerFailure(e, this.config.id);
    });
  }

  private async check(idToken: string, nonce: string, nowMs: number): Promise<VerifiedIdToken> {
    const metadata = (await this.discovered()).serverMetadata();
    if (!metadata.jwks_uri) throw new ProviderError("server_error", "The provider publishes no keys (jwks_uri).", { provider: this.config.id });
    if (this.jwks?.uri !== metadata.jwks_uri) {
      this.jwks = { uri: metadata.jwks_uri, get: createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: this.timeoutMs }) };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks.get, {
        issuer: metadata.issuer,
        audience: [this.config.clientId, ...this.config.audiences],
        clockTolerance: ID_TOKEN_LEEWAY_SECONDS,
        currentDate: new Date(nowMs),
        requiredClaims: ["sub", "exp", "iat"],
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWKSTimeout || isUnreachable(e)) throw providerFailure(e, this.config.id);
      const code = e instanceof joseErrors.JOSEError ? e.code : "ERR_INVALID";
      throw new ProviderError("invalid_id_token", idTokenProblem(e), { provider: this.config.id, code });
    }
    if (!nonceMatches(payload.nonce, nonce)) throw new ProviderError("invalid_id_token", "The id_token's nonce is not the one given.", { provider: this.config.id, code: "nonce" });
    return { profile: profileOf(this.config.id, payload), expiresAt: (payload.exp as number) * 1000, nonceClaim: payload.nonce as string };
  }
}

function idTokenProblem(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return "The id_token has expired.";
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `The id_token's ${e.claim} claim is not accepted.`;
  if (e instanceof joseErrors.JWSSignatureVerificationFailed || e instanceof joseErrors.JWKSNoMatchingKey) return "The id_token's signature is not the provider's.";
  return "The id_token is not valid.";
}

/** The token's nonce is the app's, or (Apple's native flow) the SHA-256 hex of it. */
export function nonceMatches(claim: unknown, given: string): boolean {
  if (typeof claim !== "string" || given === "") return false;
  return claim === given || claim === createHash("sha256").update(given).digest("hex");
}

/** GitHub's OAuth app flow (no id_token): the token endpoint, then GET /user and /user/emails. */
class GithubUpstream implements Upstream {
  readonly idTokens = null;
  private configured?: Promise<Configuration>;

  constructor(
    readonly config: GithubProviderConfig,
    private readonly timeoutMs: number,
  ) {}

  private configuration(): Promise<Configuration> {
    this.configured ??= openIdClient().then((oidc) => {
      const { webUrl, clientId, clientSecret } = this.config;
      const config = new oidc.Configuration(
        { issuer: webUrl, authorization_endpoint: `${webUrl}/login/oauth/authorize`, token_endpoint: `${webUrl}/login/oauth/access_token` },
        clientId,
        clientSecret,
      );
      config.timeout = this.timeoutMs / 1000;
      if (this.config.insecure) oidc.allowInsecureRequests(config);
      return config;
    });
    return this.configured;
  }

  async authorizationUrl(checks: AuthorizationChecks): Promise<string> {
    const oidc = await openIdClient();
    return oidc.buildAuthorizationUrl(await this.configuration(), {
      redirect_uri: checks.redirectUri,
      scope: this.config.scopes.join(" "),
      state: checks.state,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: "S256",
      // Let the person pick another GitHub account than the one signed in.
      allow_signup: "true",
    }).href;
  }

  async exchange(params: URLSearchParams, checks: AuthorizationChecks): Promise<ProviderProfile> {
    try {
      return await withinDeadline(this.timeoutMs, (signal) => this.exchangeCode(params, checks, signal));
    } catch (e) {
      throw providerFailure(e, "github");
    }
  }

  private async exchangeCode(params: URLSearchParams, checks: AuthorizationChecks, signal: AbortSignal): Promise<ProviderProfile> {
    const oidc = await openIdClient();
    const callback = new URL(checks.redirectUri);
    for (const [k, v] of params) callback.searchParams.append(k, v);
    const tokens = await oidc.authorizationCodeGrant(await this.configuration(), callback, { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state });
    const user = (await this.api("/user", tokens.access_token, signal)) as { id?: unknown; email?: unknown };
    if (typeof user.id !== "number" && typeof user.id !== "string") throw new ProviderError("server_error", "GitHub's /user has no id.", { provider: "github" });
    const emails = await this.api("/user/emails", tokens.access_token, signal).catch((e) => {
      // Without the user:email scope GitHub answers 404: no verified email then.
      if (e instanceof GithubApiError && e.status === 404) return [];
      throw e;
    });
    const primary = Array.isArray(emails) ? (emails as Array<{ email?: unknown; primary?: unknown; verified?: unknown }>).find((e) => e.primary === true) : undefined;
    const email = emailOf(primary?.email) ?? emailOf(user.email);
    return { provider: "github", subject: String(user.id), email, emailVerified: email !== null && primary?.verified === true && emailOf(primary.email) === email };
  }

  /** `signal`: the exchange's deadline, so a slow API is let go (not left running) when it passes. */
  private async api(path: string, token: string, signal: AbortSignal): Promise<unknown> {
    const response = await fetch(`${this.config.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json", "user-agent": "graphql-auth-gateway", "x-github-api-version": "2022-11-28" },
      signal,
    });
    if (response.status >= 500) throw new ProviderError("temporarily_unavailable", `GitHub answered ${response.status}.`, { provider: "github", status: response.status });
    if (!response.ok) throw new GithubApiError(response.status);
    return response.json();
  }
}

class GithubApiError extends Error {
  constructor(readonly status: number) {
    super(`GitHub's API answered ${status}`);
    this.name = "GithubApiError";
  }
}
