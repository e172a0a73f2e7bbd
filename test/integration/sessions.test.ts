import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { LoginDocument, LogoutDocument, MeDocument, RefreshTokensDocument, RevokeOtherSessionsDocument, RevokeSessionDocument, SessionsDocument, SignUpDocument } from "../__generated__/graphql";
import { PrismaSessionRepo } from "../../src/infra/db/session.repo";
import { hashToken } from "../../src/sessions/tokens";
import { whileCommitting } from "../helpers/database";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { PUBLIC_URL: "https://auth.example.test" } });
});
afterAll(() => gw.close());

let n = 0;
/** A fresh account and its first session's tokens. */
async function newAccount(userAgent = "jest-a") {
  const email = `user${++n}@example.com`;
  const r = await gw.request(SignUpDocument, { input: { email, password: "correct horse battery" } }, { headers: { "user-agent": userAgent } });
  const p = r.data!.signUp;
  return { email, userId: p.user!.id, ...p.tokens! };
}
const loginAgain = async (email: string, userAgent = "jest-b") =>
  (await gw.request(LoginDocument, { input: { email, password: "correct horse battery" } }, { headers: { "user-agent": userAgent } })).data!.login.tokens!;

describe("access tokens", () => {
  it("verify with an independent library against /.well-known/jwks.json, with the contract's claims", async () => {
    const { accessToken, userId } = await newAccount();
    const jwks = createRemoteJWKSet(new URL(`${gw.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, {
      issuer: "https://auth.example.test",
      audience: "graphql",
      algorithms: ["ES256"],
    });
    expect(protectedHeader).toMatchObject({ alg: "ES256", kid: gw.keyRing.signing.kid });
    expect(payload).toMatchObject({ sub: userId, aal: "aal1", amr: ["pwd"], iss: "https://auth.example.test", aud: "graphql" });
    expect(payload.sid).toEqual(expect.any(String));
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(15 * 60);
  });

  it("OIDC discovery names the issuer and the JWKS: a verifier configured by issuer URL alone checks our tokens", async () => {
    const { accessToken, userId } = await newAccount();
    const res = await fetch(`${gw.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { issuer: string; jwks_uri: string; id_token_signing_alg_values_supported: string[]; claims_supported: string[] };
    expect(doc).toMatchObject({ issuer: "https://auth.example.test", jwks_uri: "https://auth.example.test/.well-known/jwks.json", id_token_signing_alg_values_supported: ["ES256"] });
    expect(doc.claims_supported).toEqual(expect.arrayContaining(["sub", "sid", "aal", "amr"]));
    // PUBLIC_URL is not this test server's address: fetch the advertised path from it.
    const jwks = createRemoteJWKSet(new URL(new URL(doc.jwks_uri).pathname, gw.url));
    const { payload } = await jwtVerify(accessToken, jwks, { issuer: doc.issuer, audience: "graphql", algorithms: doc.id_token_signing_alg_values_supported });
    expect(payload.sub).toBe(userId);
  });

  it("publishes the signing key as a P-256 JWK with kid, alg and use", async () => {
    const res = await fetch(`${gw.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Array<Record<string, string>> };
    expect(keys).toEqual([expect.objectContaining({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid: gw.keyRing.signing.kid })]);
    expect(keys[0]).not.toHaveProperty("d");
  });

  it("me is null without a token or with a bad one; protected fields answer UNAUTHENTICATED", async () => {
    expect((await gw.request(MeDocument)).data!.me).toBeNull();
    expect((await gw.request(MeDocument, {}, { token: "not.a.jwt" })).data!.me).toBeNull();
    expect(errorCode(await gw.request(SessionsDocument))).toBe("UNAUTHENTICATED");
    expect(errorCode(await gw.request(LogoutDocument))).toBe("UNAUTHENTICATED");
  });

  it("a tampered token (another audience) is not accepted", async () => {
    const { accessToken } = await newAccount();
    const [h, p, s] = accessToken.split(".");
    const otherAud = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), aud: "other" })).toString("base64url");
    expect((await gw.request(MeDocument, {}, { token: `${h}.${otherAud}.${s}` })).data!.me).toBeNull();
    expect(decodeProtectedHeader(accessToken).typ).toBe("at+jwt");
  });
});

describe("sessions", () => {
  it("lists the user's active sessions newest first, marking the current one", async () => {
    const a = await newAccount("browser-one");
    const b = await loginAgain(a.email, "browser-two");
    const r = await gw.request(SessionsDocument, {}, { token: b.accessToken });
    const sessions = r.data!.sessions;
    expect(sessions.map((s) => s.userAgent)).toEqual(["browser-two", "browser-one"]);
    expect(sessions.map((s) => s.current)).toEqual([true, false]);
    expect(sessions[0]).toMatchObject({ aal: "aal1", amr: ["pwd"], ip: "127.0.0.1" });
  });
});

describe("refreshTokens", () => {
  it("rotates: a new pair, and the new access token works", async () => {
    const a = await newAccount();
    const r = await gw.request(RefreshTokensDocument, { refreshToken: a.refreshToken });
    const t = r.data!.refreshTokens;
    expect(t.refreshToken).not.toBe(a.refreshToken);
    expect(t).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
    expect((await gw.request(MeDocument, {}, { token: t.accessToken })).data!.me!.id).toBe(a.userId);
  });

  it("stores refresh tokens only as hashes", async () => {
    const a = await newAccount();
    const rows = await gw.db.db.prisma.refreshToken.findMany();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(a.refreshToken);
  });

  it("reusing a rotated token revokes the whole session, its access tokens included", async () => {
    const a = await newAccount();
    const next = (await gw.request(RefreshTokensDocument, { refreshToken: a.refreshToken })).data!.refreshTokens;
    const reuse = await gw.request(RefreshTokensDocument, { refreshToken: a.refreshToken });
    expect(errorCode(reuse)).toBe("UNAUTHENTICATED");
    // The thief's and the owner's tokens of that family are all dead now.
    expect(errorCode(await gw.request(RefreshTokensDocument, { refreshToken: next.refreshToken }))).toBe("UNAUTHENTICATED");
    expect((await gw.request(MeDocument, {}, { token: next.accessToken })).data!.me).toBeNull();
    expect((await gw.request(MeDocument, {}, { token: a.accessToken })).data!.me).toBeNull();
    const events = await gw.db.db.prisma.authEvent.findMany({ where: { userId: a.userId, type: "session.refresh_reuse" } });
    expect(events).toHaveLength(1);
  });

  it("two concurrent uses of one token: at most one rotation wins, and the session ends", async () => {
    const a = await newAccount();
    const results = await Promise.all([0, 1, 2, 3].map(() => gw.request(RefreshTokensDocument, { refreshToken: a.refreshToken })));
    expect(results.filter((r) => r.data?.refreshTokens).length).toBeLessThanOrEqual(1);
    expect(results.filter((r) => errorCode(r) === "UNAUTHENTICATED").length).toBeGreaterThanOrEqual(3);
    const session = await gw.db.db.prisma.session.findFirstOrThrow({ where: { userId: a.userId } });
    expect(session.revokedReason).toBe("refresh_token_reuse");
  });

  /** A new account's refresh token as the repository stores it, to rotate by hand. */
  async function storedToken() {
    const { refreshToken } = await newAccount();
    const repo = new PrismaSessionRepo(gw.db.db.prisma, gw.db.db.sql);
    const found = (await repo.findByRefreshTokenHash(hashToken(refreshToken)))!;
    return { repo, found, client: { ip: "127.0.0.1", userAgent: null } };
  }

  it("a session revoked between the token's lookup and its rotation gets no successor token", async () => {
    const { repo, found, client } = await storedToken();
    // What a claim or a sign-out elsewhere does while a refresh is in flight.
    await repo.revoke(found.session.id, "account_claimed", new Date());
    expect(await repo.rotate(found.tokenId, found.session.id, hashToken("next"), client, new Date())).toBe("ended");
    // Rolled back: the old token is not spent and no successor exists.
    expect(await gw.db.db.prisma.refreshToken.findMany({ where: { sessionId: found.session.id } })).toMatchObject([{ rotatedAt: null }]);
    expect(await repo.elevate(found.session.id, ["otp", "mfa"], new Date())).toBeNull();
  });

  it("a rotation waiting on a revocation that then commits ends: the token stays unspent", async () => {
    const { repo, found, client } = await storedToken();
    const outcome = await whileCommitting(
      gw.db,
      (tx) => tx.session.update({ where: { id: found.session.id }, data: { revokedAt: new Date(), revokedReason: "account_claimed" } }),
      () => repo.rotate(found.tokenId, found.session.id, hashToken("next"), client, new Date()),
    );
    expect(outcome).toBe("ended");
    expect(await gw.db.db.prisma.refreshToken.findMany({ where: { sessionId: found.session.id } })).toMatchObject([{ rotatedAt: null }]);
  });

  it("a rotation waiting on another rotation of the same token that then commits is reuse", async () => {
    const { repo, found, client } = await storedToken();
    const outcome = await whileCommitting(
      gw.db,
      (tx) => tx.refreshToken.update({ where: { id: found.tokenId }, data: { rotatedAt: new Date() } }),
      () => repo.rotate(found.tokenId, found.session.id, hashToken("next"), client, new Date()),
    );
    expect(outcome).toBe("reused");
    expect(await gw.db.db.prisma.refreshToken.count({ where: { sessionId: found.session.id } })).toBe(1);
  });

  it("an unknown refresh token is UNAUTHENTICATED and revokes nothing", async () => {
    const a = await newAccount();
    expect(errorCode(await gw.request(RefreshTokensDocument, { refreshToken: "made-up" }))).toBe("UNAUTHENTICATED");
    expect((await gw.request(MeDocument, {}, { token: a.accessToken })).data!.me!.id).toBe(a.userId);
  });
});

describe("a session created while a claim commits", () => {
  it("gets none: the claim raised credentials_version while the sign-in waited", async () => {
    const { userId } = await newAccount();
    const repo = new PrismaSessionRepo(gw.db.db.prisma, gw.db.db.sql);
    const now = new Date();
    const created = await whileCommitting(
      gw.db,
      (tx) => tx.user.update({ where: { id: userId }, data: { credentialsVersion: { increment: 1 } } }),
      () =>
        repo.create({
          userId,
          aal: "aal1",
          amr: ["pwd"],
          firstFactorAmr: ["pwd"],
          client: { ip: null, userAgent: null },
          now,
          expiresAt: new Date(now.getTime() + 60_000),
          refreshTokenHash: hashToken(`late-${userId}`),
          credentialsVersion: 0,
        }),
    );
    expect(created).toBeNull();
    expect(await gw.db.db.prisma.session.count({ where: { userId } })).toBe(1);
    expect(await gw.db.db.prisma.refreshToken.count({ where: { tokenHash: hashToken(`late-${userId}`) } })).toBe(0);
    // Nor a session.created row: only the first session's.
    expect(await gw.db.db.prisma.authEvent.count({ where: { userId, type: "session.created" } })).toBe(1);
  });
});

describe("the audit trail", () => {
  it("holds each session's session.created row, stored with the session: its id, aal, amr, IP and browser", async () => {
    const a = await newAccount("jest-audit-a");
    await loginAgain(a.email, "jest-audit-b");
    const sessions = await gw.db.db.prisma.session.findMany({ where: { userId: a.userId }, orderBy: { createdAt: "asc" } });
    const rows = await gw.db.db.prisma.authEvent.findMany({ where: { userId: a.userId, type: "session.created" }, orderBy: { at: "asc" } });
    expect(rows.map(({ ok, ip, userAgent, detail }) => ({ ok, ip, userAgent, detail }))).toEqual(
      ["jest-audit-a", "jest-audit-b"].map((userAgent, i) => ({ ok: true, ip: "127.0.0.1", userAgent, detail: { sessionId: sessions[i].id, aal: "aal1", amr: ["pwd"] } })),
    );
    for (const [i, row] of rows.entries()) expect(row.at).toEqual(sessions[i].createdAt);
  });
});

describe("logout", () => {
  it("ends the current session: its access and refresh tokens stop working at once", async () => {
    const a = await newAccount();
    expect((await gw.request(LogoutDocument, {}, { token: a.accessToken })).data!.logout).toBe(true);
    expect((await gw.request(MeDocument, {}, { token: a.accessToken })).data!.me).toBeNull();
    expect(errorCode(await gw.request(RefreshTokensDocument, { refreshToken: a.refreshToken }))).toBe("UNAUTHENTICATED");
  });
});

describe("revokeSession", () => {
  it("ends another of the user's sessions, which is signed out on its next request", async () => {
    const a = await newAccount("laptop");
    const phone = await loginAgain(a.email, "phone");
    const list = (await gw.request(SessionsDocument, {}, { token: a.accessToken })).data!.sessions;
    const phoneSession = list.find((s) => s.userAgent === "phone")!;
    expect((await gw.request(RevokeSessionDocument, { id: phoneSession.id }, { token: a.accessToken })).data!.revokeSession).toBe(true);
    expect((await gw.request(MeDocument, {}, { token: phone.accessToken })).data!.me).toBeNull();
    expect((await gw.request(MeDocument, {}, { token: a.accessToken })).data!.me!.id).toBe(a.userId);
    const after = (await gw.request(SessionsDocument, {}, { token: a.accessToken })).data!.sessions;
    expect(after.map((s) => s.id)).not.toContain(phoneSession.id);
  });

  it("cannot touch someone else's session", async () => {
    const a = await newAccount();
    const b = await newAccount();
    const bSession = (await gw.request(SessionsDocument, {}, { token: b.accessToken })).data!.sessions[0];
    const r = await gw.request(RevokeSessionDocument, { id: bSession.id }, { token: a.accessToken });
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect((await gw.request(MeDocument, {}, { token: b.accessToken })).data!.me!.id).toBe(b.userId);
  });
});

describe("revokeOtherSessions", () => {
  it("ends every other session of the user, and only those: this one and other users' go on", async () => {
    const a = await newAccount("laptop");
    const phone = await loginAgain(a.email, "phone");
    const tablet = await loginAgain(a.email, "tablet");
    const someoneElse = await newAccount();

    const r = await gw.request(RevokeOtherSessionsDocument, {}, { token: a.accessToken });
    expect(r.data!.revokeOtherSessions).toBe(2);
    for (const t of [phone, tablet]) {
      expect((await gw.request(MeDocument, {}, { token: t.accessToken })).data!.me).toBeNull();
      expect(errorCode(await gw.request(RefreshTokensDocument, { refreshToken: t.refreshToken }))).toBe("UNAUTHENTICATED");
    }
    expect((await gw.request(MeDocument, {}, { token: a.accessToken })).data!.me!.id).toBe(a.userId);
    expect((await gw.request(MeDocument, {}, { token: someoneElse.accessToken })).data!.me!.id).toBe(someoneElse.userId);
    expect((await gw.request(SessionsDocument, {}, { token: a.accessToken })).data!.sessions.map((s) => s.userAgent)).toEqual(["laptop"]);
    const [event] = await gw.db.db.prisma.authEvent.findMany({ where: { userId: a.userId, type: "session.revoked_others" } });
    expect(event).toMatchObject({ ok: true, detail: { ended: 2 } });
    // Nothing left to end.
    expect((await gw.request(RevokeOtherSessionsDocument, {}, { token: a.accessToken })).data!.revokeOtherSessions).toBe(0);
  });

  it("needs a signed-in caller", async () => {
    expect(errorCode(await gw.request(RevokeOtherSessionsDocument, {}))).toBe("UNAUTHENTICATED");
  });
});
