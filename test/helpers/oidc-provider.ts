import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from "jose";
import type { Configuration, JWK as ProviderJwk, default as Provider } from "oidc-provider" with { "resolution-mode": "import" };

/**
 * A real OpenID Provider (panva's oidc-provider, certified) running in-process, for the
 * social/OpenID sign-in tests (issue #16). oidc-provider is ESM-only: it is loaded with a
 * dynamic import(), which TypeScript keeps as-is in this CommonJS build (see the PR notes).
 */

/** One account at the provider; its claims are what the id_token and userinfo carry. */
export interface OidcUser {
  sub: string;
  email: string;
  email_verified: boolean;
  name: string;
  /** When set, the login page checks it; otherwise it takes any password (oidc-provider's dev login). */
  password?: string;
}

export interface OidcProviderOptions {
  /** The redirect_uris registered for the client (exact match, as at Google). */
  redirectUris: string[];
  /** The provider's accounts; the array stays live (push to add one mid-test). */
  users?: OidcUser[];
  clientId?: string;
  clientSecret?: string;
  /** How the client authenticates at the token endpoint; openid-client's default is client_secret_post. */
  tokenEndpointAuthMethod?: "client_secret_post" | "client_secret_basic";
  /** Where to listen on 127.0.0.1; default: a port the OS picks (tests). The dev script uses a fixed one. */
  port?: number;
}

export interface MintIdTokenOptions {
  /** Claims email, email_verified, name come from the user list when the sub is in it. */
  sub: string;
  nonce?: string;
  /** Default: the registered client_id. Anything else is a wrong audience. */
  aud?: string | string[];
  /** exp ten minutes in the past (iat an hour before). */
  expired?: boolean;
  /** "foreign-key": a fresh RSA key under the provider's own kid, so only the signature check refuses it. */
  signedWith?: "provider-key" | "foreign-key";
  /** Extra or overriding claims. */
  claims?: Record<string, unknown>;
}

/** How the user answers the provider's pages. */
export interface SignInAs {
  /** The account's sub, typed into the login form. An unknown one (or a wrong password) fails signIn. */
  login: string;
  password?: string;
  /** "deny" presses the consent page's Cancel link: the provider answers error=access_denied. */
  consent?: "approve" | "deny";
}

export interface OidcTestProvider {
  /** The issuer; discovery is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  jwksUri: string;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  users: OidcUser[];
  /** The oidc-provider instance, for events (`provider.on("grant.success", ...)`) and anything else. */
  provider: Provider;
  /**
   * Plays a browser through the provider's own login and consent pages, with fetch and a
   * cookie jar, starting at an authorization URL. (Chromium, tried: fill input[name=login] and
   * input[name=password], click button[type=submit]; on the consent page click it again, or
   * the "[ Cancel ]" link to deny.) Returns the URL the provider finally redirects to (redirect_uri?code=…&state=…&iss=…,
   * or ?error=access_denied…), without requesting it. With response_mode=form_post (Apple's way) the provider
   * answers with a page whose form posts itself to redirect_uri: then the form's action with its fields as the
   * query, to be POSTed as a form (`formPostBody`).
   */
  signIn(authorizationUrl: string | URL, as: SignInAs): Promise<URL>;
  /** An id_token as the provider would sign it, for the native-app path (signInWithIdToken). */
  mintIdToken(options: MintIdTokenOptions): Promise<string>;
  close(): Promise<void>;
}

export const DEFAULT_OIDC_USERS: OidcUser[] = [
  { sub: "oidc-ada", email: "ada@example.com", email_verified: true, name: "Ada Lovelace" },
  { sub: "oidc-bob", email: "bob@example.com", email_verified: false, name: "Bob Unverified" },
];

const KID = "test-provider-rs256";

export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcTestProvider> {
  const { default: ProviderClass } = await quietly(() => import("oidc-provider"));
  const users = options.users ?? DEFAULT_OIDC_USERS.map((u) => ({ ...u }));
  const clientId = options.clientId ?? "gateway-test-client";
  const clientSecret = options.clientSecret ?? randomBytes(24).toString("base64url");

  const signingKey = await generateKeyPair("RS256", { extractable: true });
  const privateJwk: JWK = { ...(await exportJWK(signingKey.privateKey)), kid: KID, alg: "RS256", use: "sig" };

  // Listen first: the issuer must carry the port the OS picked.
  let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: options.tokenEndpointAuthMethod ?? "client_secret_post",
      },
    ],
    jwks: { keys: [privateJwk as ProviderJwk] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    // PKCE (S256, the only method v9 knows) for confidential clients too, as the gateway will send it.
    pkce: { required: () => true },
    responseTypes: ["code"],
    scopes: ["openid", "email", "profile"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Put scope claims in the id_token, as Google, Apple and Microsoft do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    // Explicit, so the provider does not print a notice for each default it falls back to.
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    // Plain text, so a test that lands on an error page reads the error in signIn's exception.
    async renderError(ctx, out) {
      ctx.type = "text";
      ctx.body = Object.entries(out).map(([key, value]) => `${key}: ${String(value)}`).join("\n");
    },
    async findAccount(_ctx, sub) {
      const user = users.find((u) => u.sub === sub);
      if (!user) return undefined;
      const { password: _password, ...claims } = user;
      return { accountId: user.sub, claims: async () => claims };
    },
  };
  const provider = await quietly(() => new ProviderClass(issuer, configuration));
  const callback = provider.callback();
  handler = (req, res) => {
    checkLogin(req, res, users)
      .then(async (accepted) => {
        if (accepted) await quietly(() => callback(req, res));
      })
      .catch(() => res.destroy()); // the client went away mid-form
  };

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    clientId,
    clientSecret,
    redirectUris: options.redirectUris,
    users,
    provider,
    signIn: (authorizationUrl, as) => playBrowser(issuer, new URL(authorizationUrl), as),
    mintIdToken: async (mint) => {
      const user = users.find((u) => u.sub === mint.sub);
      const now = Math.floor(Date.now() / 1000);
      const iat = mint.expired ? now - 3600 : now;
      const exp = mint.expired ? now - 600 : now + 600;
      const key: KeyLike = mint.signedWith === "foreign-key" ? (await generateKeyPair("RS256")).privateKey : signingKey.privateKey;
      const { sub: _sub, password: _password, ...profile } = user ?? { sub: mint.sub };
      return new SignJWT({ ...profile, ...(mint.nonce === undefined ? {} : { nonce: mint.nonce }), ...mint.claims })
        .setProtectedHeader({ alg: "RS256", kid: KID, typ: "JWT" })
        .setIssuer(issuer)
        .setSubject(mint.sub)
        .setAudience(mint.aud ?? clientId)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The dev login page takes any login, and an account findAccount does not know then ends in
 * a server_error. Like a real provider, refuse it at the form instead: an unknown login or a
 * wrong password is sent back to the login page (303 to the same interaction). An accepted
 * form goes on to the provider as req.body, which oidc-provider reads when the stream is spent.
 */
async function checkLogin(req: http.IncomingMessage, res: http.ServerResponse, users: OidcUser[]): Promise<boolean> {
  if (req.method !== "POST" || !/^\/interaction\/[^/]+$/.test(req.url ?? "")) return true;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  (req as http.IncomingMessage & { body?: Buffer }).body = body;
  const form = new URLSearchParams(body.toString("utf8"));
  if (form.get("prompt") !== "login") return true;
  const user = users.find((u) => u.sub === form.get("login"));
  if (user && (user.password === undefined || user.password === form.get("password"))) return true;
  res.writeHead(303, { location: req.url as string, "cache-control": "no-store" }).end();
  return false;
}

/**
 * Runs `make` with the provider's warnings about what this helper chooses on purpose muted:
 * the in-memory adapter, the dev interactions, the login form handed on as req.body, and v9's
 * Node 22 floor (it runs on Node 20.20).
 */
async function quietly<T>(make: () => T | Promise<T>): Promise<T> {
  // Counted, so overlapping requests put back the real console.warn exactly once.
  if (muted++ === 0) {
    realWarn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === "string" && DELIBERATE.test(args[0])) return;
      realWarn(...args);
    };
  }
  try {
    return await make();
  } finally {
    if (--muted === 0) console.warn = realWarn;
  }
}

const DELIBERATE = /^oidc-provider WARNING: (Unsupported runtime|a quick start development-only|already parsed request body)/;
let muted = 0;
let realWarn = console.warn;

/** Follows the provider's redirects and submits its forms, keeping cookies like a browser would. */
async function playBrowser(issuer: string, start: URL, as: SignInAs): Promise<URL> {
  const jar = new Map<string, string>();
  let url = start;
  let loginTried: string | undefined;
  for (let step = 0; step < 20; step++) {
    if (url.origin !== new URL(issuer).origin) return url; // left the provider: the redirect_uri
    const response = await send(url, jar);
    const location = response.headers.get("location");
    if (location) {
      url = new URL(location, url);
      continue;
    }
    const page = await response.text();
    if (response.status !== 200) throw new Error(`The provider answered ${response.status} at ${url.pathname}: ${page.slice(0, 500)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!action) throw new Error(`No form on the provider's page at ${url.pathname}: ${page.slice(0, 500)}`);
    const target = new URL(decodeHtml(action), url);
    if (target.origin !== new URL(issuer).origin) {
      // form_post: the auto-submitting form to redirect_uri; its hidden fields as the query.
      for (const [, name, value] of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)) target.searchParams.append(decodeHtml(name), decodeHtml(value));
      return target;
    }
    if (prompt === "login") {
      if (loginTried === url.pathname) throw new Error(`The provider refused the login ${as.login} (unknown account or wrong password)`);
      loginTried = url.pathname;
      url = await submit(new URL(action, url), { prompt, login: as.login, password: as.password ?? "any" }, jar);
    } else if (prompt === "consent" && as.consent === "deny") {
      const abort = /href="([^"]*\/abort)"/.exec(page)?.[1];
      if (!abort) throw new Error("No Cancel link on the consent page");
      url = new URL(abort, url);
    } else if (prompt === "consent") {
      url = await submit(new URL(action, url), { prompt }, jar);
    } else {
      throw new Error(`Unexpected provider page (prompt ${prompt}) at ${url.pathname}`);
    }
  }
  throw new Error("The provider kept redirecting");
}

/** The fields of a form_post callback URL (from signIn) as the body the provider's page would post. */
export const formPostBody = (callback: URL): URLSearchParams => new URLSearchParams(callback.search);

const decodeHtml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_m, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'" })[e]!);

async function submit(url: URL, form: Record<string, string>, jar: Map<string, string>): Promise<URL> {
  const response = await send(url, jar, new URLSearchParams(form));
  const location = response.headers.get("location");
  if (!location) throw new Error(`The provider answered ${response.status} to the form at ${url.pathname}: ${(await response.text()).slice(0, 500)}`);
  return new URL(location, url);
}

async function send(url: URL, jar: Map<string, string>, form?: URLSearchParams): Promise<Response> {
  const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
  const response = await fetch(url, {
    method: form ? "POST" : "GET",
    redirect: "manual",
    headers: { ...(cookie ? { cookie } : {}), ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
    body: form,
  });
  // Paths are ignored: the provider tells its cookies apart by name and signature.
  for (const line of response.headers.getSetCookie()) {
    const [pair, ...attributes] = line.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const expired = attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split("=")[1]) < Date.now());
    if (expired) jar.delete(name);
    else jar.set(name, pair.slice(eq + 1).trim());
  }
  return response;
}
