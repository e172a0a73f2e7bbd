import http from "node:http";
import { URI, type TOTP } from "otpauth";
import { ConfirmTotpDocument, EnrollTotpDocument, LogoutDocument, MeDocument, RefreshTokensDocument, RefreshTokensFromCookieDocument, SignUpDocument } from "../__generated__/graphql";
import { createTestDatabase, postgresServerUrl, type TestDatabase } from "../helpers/database";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { hostAndPort, startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait";

const APP = "https://app.example.test";
const COOKIE_MODE = { "x-refresh-token-delivery": "cookie" };

let gw: TestGateway;
let off: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { REFRESH_TOKEN_COOKIE: "true", ALLOWED_ORIGINS: APP, REFRESH_TOKEN_TTL_DAYS: "7" } });
  off = await startTestGateway({ store: "memory" });
});
afterAll(async () => {
  await gw.close();
  await off.close();
});

/** The refresh_token Set-Cookie of a reply, parsed: value and attributes. */
function refreshCookie(headers: Headers) {
  const line = headers.getSetCookie().find((c) => c.startsWith("refresh_token="));
  if (!line) return undefined;
  const [pair, ...attrs] = line.split(/;\s*/);
  return { value: decodeURIComponent(pair.slice("refresh_token=".length)), attrs: attrs.map((a) => a.toLowerCase()) };
}
const asCookie = (value: string) => ({ cookie: `refresh_token=${encodeURIComponent(value)}` });
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

let n = 0;
async function signUpInCookieMode() {
  const email = `cookie${++n}@example.com`;
  const r = await gw.request(SignUpDocument, { input: { email, password: "correct horse battery" } }, { headers: { ...COOKIE_MODE, origin: APP } });
  const cookie = refreshCookie(r.headers);
  if (!cookie) throw new Error(`no refresh cookie: ${JSON.stringify(r)}`);
  return { email, tokens: r.data!.signUp.tokens!, cookie: cookie.value };
}

describe("refresh-token cookie", () => {
  it("is off unless the gateway turns it on: the header alone changes nothing", async () => {
    const r = await off.request(SignUpDocument, { input: { email: "plain@example.com", password: "correct horse battery" } }, { headers: COOKIE_MODE });
    expect(r.data!.signUp.tokens!.refreshToken).toMatch(/\S{32,}/);
    expect(refreshCookie(r.headers)).toBeUndefined();
  });

  it("is per request: without the header the token stays in the body (native apps, services)", async () => {
    const r = await gw.request(SignUpDocument, { input: { email: "native@example.com", password: "correct horse battery" } });
    expect(r.data!.signUp.tokens!.refreshToken).toMatch(/\S{32,}/);
    expect(refreshCookie(r.headers)).toBeUndefined();
  });

  it("with the header, moves the refresh token out of the body into an httpOnly, SameSite=Strict cookie on /graphql", async () => {
    const r = await gw.request(SignUpDocument, { input: { email: "browser@example.com", password: "correct horse battery" } }, { headers: { ...COOKIE_MODE, origin: APP } });
    const tokens = r.data!.signUp.tokens!;
    expect(tokens.refreshToken).toBe("");
    expect(tokens.accessToken.split(".")).toHaveLength(3);
    const cookie = refreshCookie(r.headers)!;
    expect(cookie.value).toMatch(/\S{32,}/);
    expect(cookie.attrs).toEqual(expect.arrayContaining(["httponly", "samesite=strict", "path=/graphql", `max-age=${7 * 86400}`]));
    // The test talks to 127.0.0.1: plain http is allowed there, so no Secure.
    expect(cookie.attrs).not.toContain("secure");
  });

  it("is Secure, with the __Secure- prefix, for any host but localhost, and read under that name only", async () => {
    const reply = await rawPost(gw.url, "auth.example.test", { query: "mutation { signUp(input: {email: \"host@example.com\", password: \"correct horse battery\"}) { tokens { refreshToken } } }" }, COOKIE_MODE);
    expect(JSON.parse(reply.body).data.signUp.tokens.refreshToken).toBe("");
    expect(reply.setCookie.some((c) => c.startsWith("refresh_token="))).toBe(false);
    const line = reply.setCookie.find((c) => c.startsWith("__Secure-refresh_token="))!;
    expect(line.toLowerCase().split(/;\s*/)).toEqual(expect.arrayContaining(["secure", "httponly", "samesite=strict", "path=/graphql"]));
    const token = decodeURIComponent(line.split(";")[0].slice("__Secure-refresh_token=".length));

    const refresh = { query: "mutation { refreshTokens { accessToken refreshToken } }" };
    // The unprefixed name (which an insecure origin could have planted) is not read there.
    const planted = await rawPost(gw.url, "auth.example.test", refresh, { ...COOKIE_MODE, cookie: `refresh_token=${token}` });
    expect(JSON.parse(planted.body).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    const ok = await rawPost(gw.url, "auth.example.test", refresh, { ...COOKIE_MODE, cookie: `__Secure-refresh_token=${token}` });
    expect(JSON.parse(ok.body).data.refreshTokens).toMatchObject({ refreshToken: "" });
  });

  it("refreshTokens without an argument rotates the cookie; the old cookie again revokes the session and is cleared", async () => {
    const { tokens, cookie } = await signUpInCookieMode();
    const first = await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
    expect(first.errors).toBeUndefined();
    expect(first.data!.refreshTokens.refreshToken).toBe("");
    const next = refreshCookie(first.headers)!.value;
    expect(next).not.toBe(cookie);
    const me = await gw.request(MeDocument, {}, { token: first.data!.refreshTokens.accessToken });
    expect(me.data!.me).not.toBeNull();

    const reuse = await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
    expect(errorCode(reuse)).toBe("UNAUTHENTICATED");
    // A token was presented and refused: no `reason`, which tells a browser its session ended.
    expect(reuse.errors![0].extensions).not.toHaveProperty("reason");
    expect(refreshCookie(reuse.headers)).toMatchObject({ value: "", attrs: expect.arrayContaining(["max-age=0"]) });
    // Reuse is theft: the whole session ends, the newest cookie and access tokens with it.
    expect(errorCode(await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(next) } }))).toBe("UNAUTHENTICATED");
    expect((await gw.request(MeDocument, {}, { token: tokens.accessToken })).data!.me).toBeNull();
  });

  it("never reads the cookie without the header (a plain cross-site form cannot use it)", async () => {
    const { cookie } = await signUpInCookieMode();
    const r = await gw.request(RefreshTokensFromCookieDocument, {}, { headers: asCookie(cookie) });
    expect(errorCode(r)).toBe("UNAUTHENTICATED");
    expect(r.errors![0].message).toMatch(/refresh token/i);
    // Nothing was presented, as for a browser that never signed in.
    expect(r.errors![0].extensions).toMatchObject({ reason: "NO_REFRESH_TOKEN" });
    // Untouched: still good with the header.
    expect((await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } })).errors).toBeUndefined();
  });

  it("refuses the header from an origin outside ALLOWED_ORIGINS with 403 FORBIDDEN, running nothing", async () => {
    const { cookie } = await signUpInCookieMode();
    const r = await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie), origin: "https://evil.example" } });
    expect(r.status).toBe(403);
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(refreshCookie(r.headers)).toBeUndefined();
    expect((await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie), origin: APP } })).errors).toBeUndefined();
  });

  it("swaps a refresh token given as the argument into the cookie (tokens that came over a WebSocket or a redirect)", async () => {
    // An account of its own (without the header: the token comes in the body).
    const plain = await gw.request(SignUpDocument, { input: { email: "swap@example.com", password: "correct horse battery" } });
    const given = plain.data!.signUp.tokens!.refreshToken;
    const r = await gw.request(RefreshTokensDocument, { refreshToken: given }, { headers: COOKIE_MODE });
    expect(r.data!.refreshTokens.refreshToken).toBe("");
    const cookie = refreshCookie(r.headers)!.value;
    expect(cookie).not.toBe(given);
    expect((await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } })).errors).toBeUndefined();
  });

  it("rotates the cookie even when the answer does not select refreshToken: the spent one is never left in it", async () => {
    const { cookie } = await signUpInCookieMode();
    const r = await gw.request(`mutation { refreshTokens { accessToken } }`, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
    expect(r.errors).toBeUndefined();
    const next = refreshCookie(r.headers)!.value;
    expect(next).not.toBe(cookie);
    expect((await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(next) } })).errors).toBeUndefined();
  });

  it("logout with only the cookie ends its session and clears the cookie", async () => {
    const { tokens, cookie } = await signUpInCookieMode();
    const r = await gw.request(LogoutDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
    expect(r.data!.logout).toBe(true);
    expect(refreshCookie(r.headers)).toMatchObject({ value: "", attrs: expect.arrayContaining(["max-age=0", "httponly"]) });
    expect((await gw.request(MeDocument, {}, { token: tokens.accessToken })).data!.me).toBeNull();
    expect(errorCode(await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } }))).toBe("UNAUTHENTICATED");
  });

  it("logout with an already-rotated cookie is reuse: the whole session ends, audited as such", async () => {
    const { tokens, cookie } = await signUpInCookieMode();
    const first = await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
    const next = refreshCookie(first.headers)!.value;
    const sessionId = claims(tokens.accessToken).sid;

    const r = await gw.request(LogoutDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
    expect(errorCode(r)).toBe("UNAUTHENTICATED");
    expect(refreshCookie(r.headers)?.attrs).toContain("max-age=0");
    // The thief (or the owner) holding the newest token is out too, as after a reused refresh.
    expect(errorCode(await gw.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(next) } }))).toBe("UNAUTHENTICATED");
    expect((await gw.request(MeDocument, {}, { token: first.data!.refreshTokens.accessToken })).data!.me).toBeNull();
    const row = await gw.db.db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
    expect(row.revokedReason).toBe("refresh_token_reuse");
    const events = await gw.db.db.prisma.authEvent.findMany({ where: { type: { in: ["session.refresh_reuse", "session.logout"] } } });
    expect(events.filter((e) => (e.detail as { sessionId?: string }).sessionId === sessionId).map((e) => e.type)).toEqual(["session.refresh_reuse"]);
  });

  it("logout with the access token also clears the cookie; with neither it is UNAUTHENTICATED", async () => {
    const { tokens } = await signUpInCookieMode();
    const r = await gw.request(LogoutDocument, {}, { token: tokens.accessToken, headers: COOKIE_MODE });
    expect(r.data!.logout).toBe(true);
    expect(refreshCookie(r.headers)?.attrs).toContain("max-age=0");
    expect(errorCode(await gw.request(LogoutDocument, {}, { headers: COOKIE_MODE }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await gw.request(LogoutDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie("not-a-token") } }))).toBe("UNAUTHENTICATED");
  });

  it("answers the CORS preflight for the header from an allowed origin only, with credentials", async () => {
    const preflight = (origin: string) =>
      fetch(`${gw.url}/graphql`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-refresh-token-delivery" },
      });
    const ok = await preflight(APP);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/x-refresh-token-delivery/i);
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });
});

/** A POST with a Host header of our choosing (fetch does not let one set Host). */
function rawPost(url: string, host: string, body: unknown, headers: Record<string, string>): Promise<{ body: string; setCookie: string[] }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: "/graphql", method: "POST", headers: { host, "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ body: text, setCookie: res.headers["set-cookie"] ?? [] }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("refresh-token cookie through an outage", () => {
  let postgres: TcpProxy;
  let database: TestDatabase;
  let cut: TestGateway;
  beforeAll(async () => {
    const serverUrl = await postgresServerUrl();
    postgres = await startTcpProxy(hostAndPort(serverUrl, 5432));
    database = await createTestDatabase(serverUrl);
    cut = await startTestGateway({ db: database, through: { postgres }, env: { REFRESH_TOKEN_COOKIE: "true", ALLOWED_ORIGINS: APP, DATABASE_QUERY_TIMEOUT_MS: "1000" } });
  });
  afterAll(async () => {
    await postgres.pass();
    await cut.close();
    await database.cleanup();
    await postgres.close();
  });

  it("keeps the cookie when a refresh or a logout meets UNAVAILABLE: the session lives on, and the cookie still works once Postgres is back", async () => {
    const r = await cut.request(SignUpDocument, { input: { email: "outage-cookie@example.com", password: "correct horse battery" } }, { headers: { ...COOKIE_MODE, origin: APP } });
    const cookie = refreshCookie(r.headers)!.value;
    await postgres.refuse();
    for (const doc of [RefreshTokensFromCookieDocument, LogoutDocument]) {
      const failed = await cut.request(doc, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
      expect(errorCode(failed)).toBe("UNAVAILABLE");
      expect(refreshCookie(failed.headers)).toBeUndefined();
    }
    await postgres.pass();
    const later = await waitFor(async () => {
      const again = await cut.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
      return errorCode(again) !== "UNAVAILABLE" && again;
    }, "Postgres to answer again");
    expect(later.errors).toBeUndefined();
    expect(refreshCookie(later.headers)!.value).not.toBe("");
  });
});

describe("refresh-token cookie and a step-up", () => {
  // The gateway's clock moves a TOTP step on for each code (each step is accepted once).
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset) };
  let stepping: TestGateway;
  beforeAll(async () => {
    stepping = await startTestGateway({ clock, env: { REFRESH_TOKEN_COOKIE: "true", ALLOWED_ORIGINS: APP } });
  });
  afterAll(() => stepping.close());

  it("puts the step-up's new refresh token in the cookie even when the answer selects no tokens: the spent one is never left there", async () => {
    const signedUp = await stepping.request(SignUpDocument, { input: { email: "step-up-cookie@example.com", password: "correct horse battery" } }, { headers: { ...COOKIE_MODE, origin: APP } });
    const token = signedUp.data!.signUp.tokens!.accessToken;
    const cookie = refreshCookie(signedUp.headers)!.value;
    const app = URI.parse((await stepping.request(EnrollTotpDocument, {}, { token })).data!.enrollTotp.otpauthUrl) as TOTP;
    const nextCode = () => {
      offset += 30_000;
      return app.generate({ timestamp: clock.now().getTime() });
    };
    expect((await stepping.request(ConfirmTotpDocument, { code: nextCode() }, { token })).errors).toBeUndefined();
    const stepUp = await stepping.request(`mutation($c: String!) { verifyTotp(input: { code: $c }) { status } }`, { c: nextCode() }, { token, headers: { ...COOKIE_MODE, ...asCookie(cookie) } });
    expect(stepUp.errors).toBeUndefined();
    const next = refreshCookie(stepUp.headers)!.value;
    expect(next).not.toBe(cookie);
    const refreshed = await stepping.request(RefreshTokensFromCookieDocument, {}, { headers: { ...COOKIE_MODE, ...asCookie(next) } });
    expect(refreshed.errors).toBeUndefined();
    expect(claims(refreshed.data!.refreshTokens.accessToken).aal).toBe("aal2");
  });
});
