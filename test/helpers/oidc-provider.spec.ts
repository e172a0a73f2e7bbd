import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify } from "jose";
import { startOidcProvider, type OidcTestProvider } from "./oidc-provider";

type OpenIdClient = typeof import("openid-client", { with: { "resolution-mode": "import" } });
type Configuration = import("openid-client", { with: { "resolution-mode": "import" } }).Configuration;

/**
 * The in-process OpenID Provider driven by openid-client v6, the library the gateway will use:
 * what works here is what the OpenID sign-in tests (issue #16) can rely on, without a browser.
 */

const REDIRECT_URI = "http://127.0.0.1:4999/auth/oidc/callback";

let oidc: OpenIdClient;
let op: OidcTestProvider;
let config: Configuration;

beforeAll(async () => {
  // openid-client is ESM-only; import() is kept as-is by TypeScript and runs under --experimental-vm-modules.
  oidc = await import("openid-client");
  op = await startOidcProvider({ redirectUris: [REDIRECT_URI] });
  config = await oidc.discovery(new URL(op.issuer), op.clientId, op.clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests], // the issuer is http://127.0.0.1
  });
});
afterAll(() => op?.close());

/** The relying party's half of one authorization request, as the gateway will build it. */
async function authorizationRequest(extra: Record<string, string> = {}) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: "openid email profile",
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  });
  return { url, codeVerifier, state, nonce };
}

describe("discovery", () => {
  it("advertises the code flow with S256 PKCE and a jwks_uri", () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(op.issuer);
    expect(metadata.jwks_uri).toBe(op.jwksUri);
    expect(metadata.response_types_supported).toEqual(["code"]);
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
    expect(metadata.supportsPKCE()).toBe(true);
  });
});

describe("authorization code flow with PKCE, state and nonce", () => {
  it("signs the user in and returns verified id_token claims", async () => {
    const request = await authorizationRequest();
    const callback = await op.signIn(request.url, { login: "oidc-ada" });
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("state")).toBe(request.state);

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
    expect(tokens.claims()).toMatchObject({
      iss: op.issuer,
      aud: op.clientId,
      sub: "oidc-ada",
      nonce: request.nonce,
      email: "ada@example.com",
      email_verified: true,
      name: "Ada Lovelace",
    });
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, "oidc-ada");
    expect(userinfo).toMatchObject({ sub: "oidc-ada", email: "ada@example.com", email_verified: true, name: "Ada Lovelace" });
  });

  it("carries email_verified false for a user whose address is unverified", async () => {
    const request = await authorizationRequest();
    const callback = await op.signIn(request.url, { login: "oidc-bob" });
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    expect(tokens.claims()).toMatchObject({ sub: "oidc-bob", email_verified: false });
  });

  it("refuses an authorization request without a code_challenge", async () => {
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: "openid", state });
    const callback = await op.signIn(url, { login: "oidc-ada" });
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("error_description")).toMatch(/PKCE/);
  });

  it("refuses the code with another code_verifier", async () => {
    const request = await authorizationRequest();
    const callback = await op.signIn(request.url, { login: "oidc-ada" });
    await expect(
      oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        expectedState: request.state,
        expectedNonce: request.nonce,
      }),
    ).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("answers access_denied when the user cancels consent", async () => {
    const request = await authorizationRequest();
    const callback = await op.signIn(request.url, { login: "oidc-ada", consent: "deny" });
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.get("state")).toBe(request.state);
    await expect(
      oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.codeVerifier, expectedState: request.state }),
    ).rejects.toMatchObject({ error: "access_denied" });
  });

  it("refuses a login not in the user list at the login page", async () => {
    const request = await authorizationRequest();
    await expect(op.signIn(request.url, { login: "nobody" })).rejects.toThrow("The provider refused the login nobody");
  });

  it("checks the password of a user who has one", async () => {
    op.users.push({ sub: "oidc-carol", email: "carol@example.com", email_verified: true, name: "Carol", password: "s3cret" });
    const refused = await authorizationRequest();
    await expect(op.signIn(refused.url, { login: "oidc-carol", password: "wrong" })).rejects.toThrow("refused the login oidc-carol");
    const request = await authorizationRequest();
    const callback = await op.signIn(request.url, { login: "oidc-carol", password: "s3cret" });
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    expect(tokens.claims()).toMatchObject({ sub: "oidc-carol", email: "carol@example.com" });
    expect(tokens.claims()).not.toHaveProperty("password");
  });
});

describe("minted id_tokens (the native-app path)", () => {
  const verify = (token: string, audience = op.clientId) =>
    jwtVerify(token, createRemoteJWKSet(new URL(op.jwksUri)), { issuer: op.issuer, audience, algorithms: ["RS256"] });

  it("verifies against the provider's jwks_uri with the given nonce and the user's claims", async () => {
    const token = await op.mintIdToken({ sub: "oidc-ada", nonce: "n-123" });
    const { payload } = await verify(token);
    expect(payload).toMatchObject({ sub: "oidc-ada", nonce: "n-123", email: "ada@example.com", email_verified: true, name: "Ada Lovelace" });
  });

  it("is signed with the same key as the provider's own id_tokens", async () => {
    const request = await authorizationRequest();
    const tokens = await oidc.authorizationCodeGrant(config, await op.signIn(request.url, { login: "oidc-ada" }), {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const minted = await op.mintIdToken({ sub: "oidc-ada" });
    expect(decodeProtectedHeader(minted).kid).toBe(decodeProtectedHeader(tokens.id_token as string).kid);
  });

  it("takes another audience when told (a native app's own client id)", async () => {
    const token = await op.mintIdToken({ sub: "oidc-ada", aud: "com.example.ios" });
    await expect(verify(token, "com.example.ios")).resolves.toMatchObject({ payload: { aud: "com.example.ios" } });
  });

  it("an expired one is refused", async () => {
    const token = await op.mintIdToken({ sub: "oidc-ada", expired: true });
    await expect(verify(token)).rejects.toBeInstanceOf(joseErrors.JWTExpired);
  });

  it("one signed by another key under the provider's kid is refused", async () => {
    const token = await op.mintIdToken({ sub: "oidc-ada", signedWith: "foreign-key" });
    await expect(verify(token)).rejects.toBeInstanceOf(joseErrors.JWSSignatureVerificationFailed);
  });

  it("one for another audience is refused", async () => {
    const token = await op.mintIdToken({ sub: "oidc-ada", aud: "someone-else" });
    await expect(verify(token)).rejects.toMatchObject({ code: "ERR_JWT_CLAIM_VALIDATION_FAILED", claim: "aud" });
  });
});
