import http from "node:http";
import { startGithubEndpoint, type GithubEndpoint } from "./github-endpoint";

type OpenIdClient = typeof import("openid-client", { with: { "resolution-mode": "import" } });
type Configuration = import("openid-client", { with: { "resolution-mode": "import" } }).Configuration;

/**
 * The GitHub endpoint driven by openid-client's plain OAuth 2 support (GitHub has no OpenID
 * discovery nor id_token), the way the gateway's GitHub method will: code flow with PKCE and
 * state, then GET /user and /user/emails with the access token.
 */

const CALLBACK = "http://127.0.0.1:4999/auth/github/callback";

let oidc: OpenIdClient;
let github: GithubEndpoint;
let config: Configuration;

beforeAll(async () => {
  oidc = await import("openid-client");
  github = await startGithubEndpoint({ callbackUrls: [CALLBACK] });
  // GitHub publishes no metadata: the endpoints are configured by hand.
  config = new oidc.Configuration(
    { issuer: "https://github.com", authorization_endpoint: github.authorizeUrl, token_endpoint: github.tokenUrl },
    github.clientId,
    github.clientSecret,
  );
  oidc.allowInsecureRequests(config);
});
afterAll(() => github?.close());
beforeEach(() => github.signInAs("octocat"));

async function authorizationRequest(scope = "read:user user:email") {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope,
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
  });
  return { url, codeVerifier, state };
}

async function signIn(scope?: string) {
  const request = await authorizationRequest(scope);
  const callback = await github.authorize(request.url);
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.codeVerifier, expectedState: request.state });
}

/** How openid-client reports GitHub's HTTP-200 token errors: ClientError ← OperationProcessingError ← { body }. */
const githubTokenError = (error: string) => ({ code: "OAUTH_INVALID_RESPONSE", cause: { cause: { body: { error } } } });

const api = (token: string, path: string) => oidc.fetchProtectedResource(config, token, new URL(path, github.apiUrl), "GET");

describe("GET /login/oauth/authorize", () => {
  it("sends the browser back to the callback with a code and the state", async () => {
    const request = await authorizationRequest();
    const callback = await github.authorize(request.url);
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get("code")).toMatch(/^[0-9a-f]{20}$/);
    expect(callback.searchParams.get("state")).toBe(request.state);
  });

  it("answers access_denied when the user cancels", async () => {
    github.denyNext();
    const request = await authorizationRequest();
    const callback = await github.authorize(request.url);
    expect(Object.fromEntries(callback.searchParams)).toMatchObject({ error: "access_denied", state: request.state });
    await expect(
      oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.codeVerifier, expectedState: request.state }),
    ).rejects.toMatchObject({ error: "access_denied" });
  });

  it("sends a foreign redirect_uri's user to the registered callback with redirect_uri_mismatch", async () => {
    const url = new URL(github.authorizeUrl);
    url.search = new URLSearchParams({ client_id: github.clientId, redirect_uri: "http://evil.example/cb", state: "s1" }).toString();
    const callback = await github.authorize(url);
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get("error")).toBe("redirect_uri_mismatch");
  });

  it("takes a redirect_uri under the callback's path, as GitHub does", async () => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: `${CALLBACK}/deeper`, state: "s2" });
    expect((await github.authorize(url)).pathname).toBe("/auth/github/callback/deeper");
  });

  it("refuses a plain PKCE challenge (GitHub takes S256 only)", async () => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, code_challenge: "x".repeat(43), code_challenge_method: "plain" });
    expect((await github.authorize(url)).searchParams.get("error")).toBe("invalid_request");
  });
});

describe("POST /login/oauth/access_token", () => {
  it("exchanges the code with the client secret and the PKCE verifier, answering JSON", async () => {
    const tokens = await signIn();
    expect(tokens).toMatchObject({ token_type: "bearer", scope: "read:user,user:email" });
    expect(tokens.access_token).toMatch(/^gho_[A-Za-z0-9]{36}$/);
    const exchange = github.requests.filter((r) => r.path === "/login/oauth/access_token").at(-1)!;
    expect(exchange.headers.accept).toMatch(/application\/json/);
    expect(exchange.params).toMatchObject({ grant_type: "authorization_code", client_id: github.clientId, redirect_uri: CALLBACK });
    expect(exchange.params.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("refuses another code_verifier with HTTP 200 and an error field, as GitHub does", async () => {
    const request = await authorizationRequest();
    const callback = await github.authorize(request.url);
    const refusal = oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: request.state });
    // A 200 without access_token is no conform token response to openid-client; the body, two causes down, says why.
    await expect(refusal).rejects.toMatchObject(githubTokenError("bad_verification_code"));
    expect(github.requests.at(-1)!.status).toBe(200);
  });

  it("takes a code once", async () => {
    const request = await authorizationRequest();
    const callback = await github.authorize(request.url);
    const exchange = () => oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.codeVerifier, expectedState: request.state });
    await expect(exchange()).resolves.toHaveProperty("access_token");
    await expect(exchange()).rejects.toMatchObject(githubTokenError("bad_verification_code"));
  });

  it("answers form-encoded without Accept: application/json, takes a JSON body, and checks the secret", async () => {
    const request = await authorizationRequest();
    const code = (await github.authorize(request.url)).searchParams.get("code")!;
    const wrongSecret = await fetch(github.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: github.clientId, client_secret: "nope", code, redirect_uri: CALLBACK, code_verifier: request.codeVerifier }),
    });
    expect(wrongSecret.status).toBe(200);
    expect(Object.fromEntries(new URLSearchParams(await wrongSecret.text()))).toMatchObject({ error: "incorrect_client_credentials" });

    const right = await fetch(github.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: github.clientId, client_secret: github.clientSecret, code, redirect_uri: CALLBACK, code_verifier: request.codeVerifier }),
    });
    expect(right.headers.get("content-type")).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(await right.text()))).toMatchObject({ token_type: "bearer", scope: "read:user,user:email" });
  });

  it("refuses a redirect_uri other than the authorization request's", async () => {
    const request = await authorizationRequest();
    const code = (await github.authorize(request.url)).searchParams.get("code")!;
    const response = await fetch(github.tokenUrl, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: github.clientId, client_secret: github.clientSecret, code, redirect_uri: `${CALLBACK}/other`, code_verifier: request.codeVerifier }),
    });
    expect(await response.json()).toMatchObject({ error: "redirect_uri_mismatch" });
  });
});

describe("GET /user and /user/emails", () => {
  it("read the signed-in user's profile and addresses with their primary and verified flags", async () => {
    const { access_token } = await signIn();
    const user = await (await api(access_token, "/user")).json();
    expect(user).toMatchObject({ login: "octocat", id: 583231, name: "The Octocat", email: null, type: "User" });
    const emails = await (await api(access_token, "/user/emails")).json();
    expect(emails).toEqual([
      { email: "octocat@example.com", primary: true, verified: true, visibility: "private" },
      { email: "583231+octocat@users.noreply.github.com", primary: false, verified: true, visibility: null },
    ]);
  });

  it("serve whoever is signed in at GitHub, with their own flags", async () => {
    github.signInAs("unverified-cat");
    const { access_token } = await signIn();
    expect(await (await api(access_token, "/user")).json()).toMatchObject({ login: "unverified-cat", name: null });
    expect(await (await api(access_token, "/user/emails")).json()).toEqual([
      { email: "unverified@example.com", primary: true, verified: false, visibility: "private" },
    ]);
  });

  it("/user/emails needs the user:email scope", async () => {
    const { access_token } = await signIn("read:user");
    const response = await api(access_token, "/user/emails");
    expect(response.status).toBe(404);
    expect(response.headers.get("x-oauth-scopes")).toBe("read:user");
  });

  it("refuse a missing or unknown token", async () => {
    const none = await fetch(new URL("/user", github.apiUrl));
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ message: "Requires authentication" });
    const unknown = await api("gho_" + "0".repeat(36), "/user");
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ message: "Bad credentials" });
  });

  it("refuse a request without a User-Agent, as GitHub does", async () => {
    const { access_token } = await signIn();
    const status = await new Promise<number>((resolve, reject) => {
      // fetch always sends a User-Agent; node:http sends none unless told.
      http.get(new URL("/user", github.apiUrl), { headers: { authorization: `Bearer ${access_token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject);
    });
    expect(status).toBe(403);
  });
});
