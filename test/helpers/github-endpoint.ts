import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One row of GET /user/emails, GitHub's field names. */
export interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility: "public" | "private" | null;
}

export interface GithubUser {
  id: number;
  login: string;
  name: string | null;
  /** The profile's public email: null when the user keeps every address private (GitHub's default). */
  email: string | null;
  /** What GET /user/emails lists (needs the user:email or user scope). */
  emails: GithubEmail[];
}

export interface GithubEndpointOptions {
  /** The OAuth app's callback URLs; a redirect_uri must match one the way GitHub matches them. */
  callbackUrls: string[];
  users?: GithubUser[];
  clientId?: string;
  clientSecret?: string;
}

export interface GithubRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The token request's parameters, from the form or JSON body (and the query string). */
  params: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  status?: number;
}

export interface GithubEndpoint extends EventEmitter {
  /** Serves github.com's /login/oauth/* and api.github.com's /user* alike. */
  baseUrl: string;
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  users: GithubUser[];
  requests: GithubRequest[];
  /** Who is signed in at "GitHub" in the browser: GET /login/oauth/authorize approves as them (default: the first user). */
  signInAs(login: string): void;
  /** The next authorization is refused by the user: error=access_denied. */
  denyNext(): void;
  /** Requests an authorization URL like a browser and returns where GitHub sends it (the callback), unrequested. */
  authorize(authorizationUrl: string | URL): Promise<URL>;
  close(): Promise<void>;
}

export const DEFAULT_GITHUB_USERS: GithubUser[] = [
  {
    id: 583231,
    login: "octocat",
    name: "The Octocat",
    email: null,
    emails: [
      { email: "octocat@example.com", primary: true, verified: true, visibility: "private" },
      { email: "583231+octocat@users.noreply.github.com", primary: false, verified: true, visibility: null },
    ],
  },
  {
    id: 1000002,
    login: "unverified-cat",
    name: null,
    email: null,
    emails: [{ email: "unverified@example.com", primary: true, verified: false, visibility: "private" }],
  },
];

const DOCS = "https://docs.github.com";
const CODE_TTL_MS = 10 * 60_000; // "The temporary code will expire after 10 minutes."

interface IssuedCode {
  userId: number;
  redirectUri: string;
  scope: string;
  codeChallenge?: string;
  expiresAt: number;
}

/**
 * A local HTTP server speaking the part of GitHub's OAuth app flow and REST API a sign-in
 * uses, with GitHub's field names and quirks: the token endpoint answers errors with HTTP 200
 * and an `error` field, form-encoded unless `Accept: application/json`; the token's `scope` is
 * comma-separated; the API wants a User-Agent. Emits "request" on arrival and "answered" after.
 */
export async function startGithubEndpoint(options: GithubEndpointOptions): Promise<GithubEndpoint> {
  const clientId = options.clientId ?? `Iv1.${randomBytes(8).toString("hex")}`;
  const clientSecret = options.clientSecret ?? randomBytes(20).toString("hex");
  const users = options.users ?? DEFAULT_GITHUB_USERS.map((u) => ({ ...u, emails: u.emails.map((e) => ({ ...e })) }));
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, { userId: number; scope: string }>();
  const requests: GithubRequest[] = [];
  const endpoint = new EventEmitter() as GithubEndpoint;
  let signedIn: string | undefined;
  let denyNext = false;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://github.test");
      const record: GithubRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        params: {},
        headers: req.headers,
      };
      requests.push(record);
      endpoint.emit("request", record);
      const answer = (status: number, headers: Record<string, string>, body: string) => {
        record.status = status;
        res.writeHead(status, headers).end(body);
        endpoint.emit("answered", record);
      };
      const route = `${record.method} ${url.pathname}`;
      try {
        if (route === "GET /login/oauth/authorize") return authorizeRoute(url, answer);
        if (route === "POST /login/oauth/access_token") return tokenRoute(req, url, Buffer.concat(chunks), record, answer);
        if (route === "GET /user" || route === "GET /user/emails") return apiRoute(req, url.pathname, answer);
        answer(404, { "content-type": "application/json; charset=utf-8" }, JSON.stringify(apiError("Not Found", `${DOCS}/rest`, 404)));
      } catch (error) {
        answer(500, { "content-type": "text/plain" }, `GitHub endpoint: ${(error as Error).message}`); // a test's mistake, shown to it
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  type Answer = (status: number, headers: Record<string, string>, body: string) => void;

  function authorizeRoute(url: URL, answer: Answer): void {
    const q = url.searchParams;
    // An unknown client_id gets GitHub's 404 page, not a redirect.
    if (q.get("client_id") !== clientId) return answer(404, { "content-type": "text/html" }, "<h1>404</h1>");
    const registered = options.callbackUrls[0];
    const redirectUri = q.get("redirect_uri") ?? registered;
    const back = (params: Record<string, string>) => {
      const state = q.get("state");
      const target = new URL(matchesCallback(redirectUri, options.callbackUrls) ? redirectUri : registered);
      for (const [k, v] of Object.entries({ ...params, ...(state === null ? {} : { state }) })) target.searchParams.set(k, v);
      answer(302, { location: target.href }, "");
    };
    if (!matchesCallback(redirectUri, options.callbackUrls)) {
      // GitHub sends the user to the registered callback with this error.
      return back({
        error: "redirect_uri_mismatch",
        error_description: "The redirect_uri MUST match the registered callback URL for this application.",
        error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch`,
      });
    }
    const challenge = q.get("code_challenge") ?? undefined;
    if (challenge !== undefined && (q.get("code_challenge_method") !== "S256" || !/^[A-Za-z0-9_-]{43}$/.test(challenge))) {
      // GitHub takes S256 only (a 43-character challenge); which error it gives otherwise is not documented.
      return back({ error: "invalid_request", error_description: "code_challenge_method must be S256" });
    }
    if (denyNext) {
      denyNext = false;
      return back({
        error: "access_denied",
        error_description: "The user has denied your application access.",
        error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied`,
      });
    }
    const user = signedIn === undefined ? users[0] : users.find((u) => u.login === signedIn);
    if (!user) throw new Error(`No GitHub user ${signedIn}`);
    const code = randomBytes(10).toString("hex");
    // Scopes arrive space-delimited (commas are accepted too); the token reports them comma-separated.
    const scope = (q.get("scope") ?? "").split(/[\s,]+/).filter(Boolean).join(",");
    codes.set(code, { userId: user.id, redirectUri, scope, codeChallenge: challenge, expiresAt: Date.now() + CODE_TTL_MS });
    back({ code });
  }

  function tokenRoute(req: http.IncomingMessage, url: URL, body: Buffer, record: GithubRequest, answer: Answer): void {
    const params = { ...Object.fromEntries(url.searchParams), ...parseBody(req.headers["content-type"], body) };
    record.params = params;
    const basic = basicAuth(req.headers.authorization);
    const json = /application\/json/i.test(req.headers.accept ?? "");
    const reply = (fields: Record<string, string>) =>
      answer(200, { "content-type": json ? "application/json; charset=utf-8" : "application/x-www-form-urlencoded; charset=utf-8" }, json ? JSON.stringify(fields) : new URLSearchParams(fields).toString());
    const fail = (error: string, description: string, anchor: string) =>
      reply({ error, error_description: description, error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#${anchor}` });

    const id = params.client_id ?? basic?.user;
    const secret = params.client_secret ?? basic?.pass;
    if (id !== clientId || secret === undefined || !same(secret, clientSecret)) {
      return fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.", "incorrect-client-credentials");
    }
    const issued = params.code === undefined ? undefined : codes.get(params.code);
    if (!issued || issued.expiresAt < Date.now()) {
      return fail("bad_verification_code", "The code passed is incorrect or expired.", "bad-verification-code");
    }
    if (params.redirect_uri !== undefined && params.redirect_uri !== issued.redirectUri) {
      return fail("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.", "redirect-uri-mismatch2");
    }
    if (issued.codeChallenge !== undefined) {
      const verifier = params.code_verifier ?? "";
      const computed = createHash("sha256").update(verifier).digest("base64url");
      // Which error GitHub gives a wrong or missing verifier is not documented; the code is refused either way.
      if (!same(computed, issued.codeChallenge)) return fail("bad_verification_code", "The code passed is incorrect or expired.", "bad-verification-code");
    }
    codes.delete(params.code as string); // single use
    const accessToken = `gho_${randomBytes(27).toString("base64url").replace(/[-_]/g, "0").slice(0, 36)}`;
    tokens.set(accessToken, { userId: issued.userId, scope: issued.scope });
    reply({ access_token: accessToken, token_type: "bearer", scope: issued.scope });
  }

  function apiRoute(req: http.IncomingMessage, path: string, answer: Answer): void {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      answer(status, { "content-type": "application/json; charset=utf-8", "x-github-media-type": "github.v3; format=json", ...headers }, JSON.stringify(body));
    if (!req.headers["user-agent"]) {
      return answer(403, { "content-type": "text/plain" }, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).");
    }
    const auth = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? "");
    if (!auth) return send(401, apiError("Requires authentication", `${DOCS}/rest`, 401));
    const grant = tokens.get(auth[1]);
    const user = grant && users.find((u) => u.id === grant.userId);
    if (!grant || !user) return send(401, apiError("Bad credentials", `${DOCS}/rest`, 401));
    const scopes = { "x-oauth-scopes": grant.scope.split(",").filter(Boolean).join(", ") };
    if (path === "/user") return send(200, userResource(user, baseUrl), scopes);
    const granted = grant.scope.split(",");
    if (!granted.includes("user:email") && !granted.includes("user")) {
      return send(404, apiError("Not Found", `${DOCS}/rest/users/emails#list-email-addresses-for-the-authenticated-user`, 404), { ...scopes, "x-accepted-oauth-scopes": "user, user:email" });
    }
    send(200, user.emails, scopes);
  }

  return Object.assign(endpoint, {
    baseUrl,
    authorizeUrl: `${baseUrl}/login/oauth/authorize`,
    tokenUrl: `${baseUrl}/login/oauth/access_token`,
    apiUrl: baseUrl,
    clientId,
    clientSecret,
    users,
    requests,
    signInAs: (login: string) => void (signedIn = login),
    denyNext: () => void (denyNext = true),
    authorize: async (authorizationUrl: string | URL) => {
      const response = await fetch(authorizationUrl, { redirect: "manual" });
      const location = response.headers.get("location");
      if (!location) throw new Error(`GitHub endpoint answered ${response.status} to the authorization request`);
      return new URL(location);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** GitHub's rule: same host and port as a callback URL, and a path at or under its path. */
function matchesCallback(redirectUri: string, callbacks: string[]): boolean {
  let uri: URL;
  try {
    uri = new URL(redirectUri);
  } catch {
    return false;
  }
  return callbacks.some((c) => {
    const cb = new URL(c);
    const base = cb.pathname.endsWith("/") ? cb.pathname : `${cb.pathname}/`;
    return uri.protocol === cb.protocol && uri.host === cb.host && (uri.pathname === cb.pathname || uri.pathname.startsWith(base));
  });
}

function userResource(user: GithubUser, baseUrl: string): object {
  return {
    login: user.login,
    id: user.id,
    node_id: Buffer.from(`04:User${user.id}`).toString("base64"),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: "",
    url: `${baseUrl}/users/${user.login}`,
    html_url: `https://github.com/${user.login}`,
    type: "User",
    site_admin: false,
    name: user.name,
    company: null,
    blog: "",
    location: null,
    email: user.email,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: "2011-01-25T18:44:36Z",
    updated_at: "2024-01-01T00:00:00Z",
  };
}

function apiError(message: string, documentationUrl: string, status: number): object {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

function parseBody(contentType: string | undefined, body: Buffer): Record<string, string> {
  if (body.length === 0) return {};
  if (/application\/json/i.test(contentType ?? "")) {
    try {
      const parsed = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    } catch {
      return {}; // then the client credentials are missing, as GitHub would say
    }
  }
  return Object.fromEntries(new URLSearchParams(body.toString("utf8")));
}

function basicAuth(header: string | undefined): { user: string; pass: string } | null {
  const m = /^Basic (.+)$/i.exec(header ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  // RFC 6749 form-encodes the credentials before Basic; GitHub's ids and secrets never need it.
  return colon < 0 ? null : { user: decodeURIComponent(decoded.slice(0, colon)), pass: decodeURIComponent(decoded.slice(colon + 1)) };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
