import { TOTP, URI } from "otpauth";
import {
  ChangePasswordDocument,
  ConfirmTotpDocument,
  EnrollTotpDocument,
  LoginDocument,
  MeDocument,
  RefreshTokensDocument,
  SessionsDocument,
  SignUpDocument,
  VerifyTotpDocument,
} from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

/**
 * The gateway's clock, moved by the tests (default settings: idle timeout 7 days, aal2 for
 * 12 h or 30 min without a refresh). Access tokens are still checked against the real time,
 * so one issued here stays usable however far the clock moves: that is what lets a test
 * present a token issued before a lapse.
 */
const STEP = 30_000;
let now = 0;
const clock = { now: () => new Date(now) };
const minutes = (m: number) => (now += m * 60_000);
// Each test starts at the real time (sessions' createdAt comes from Postgres), at a step start.
beforeEach(() => (now = Math.floor(Date.now() / STEP) * STEP));

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ clock });
});
afterAll(() => gw.close());

const PASSWORD = "correct horse battery";
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
const refresh = (refreshToken: string) => gw.request(RefreshTokensDocument, { refreshToken });
const me = async (token: string) => (await gw.request(MeDocument, {}, { token })).data!.me;
const login = async (email: string) => (await gw.request(LoginDocument, { input: { email, password: PASSWORD } })).data!.login;
const events = (userId: string, type: string) => gw.db.db.prisma.authEvent.findMany({ where: { userId, type }, orderBy: { at: "asc" } });
const sessionRow = (accessToken: string) => gw.db.db.prisma.session.findUniqueOrThrow({ where: { id: claims(accessToken).sid } });

let n = 0;
async function signUp() {
  const email = `lifetime${++n}@example.com`;
  const r = (await gw.request(SignUpDocument, { input: { email, password: PASSWORD } })).data!.signUp;
  return { email, userId: r.user!.id, ...r.tokens! };
}

/** An account with TOTP on, confirmed from its sign-up session. */
async function withTotp() {
  const account = await signUp();
  const enrolment = (await gw.request(EnrollTotpDocument, {}, { token: account.accessToken })).data!.enrollTotp;
  const app = URI.parse(enrolment.otpauthUrl) as TOTP;
  const confirmed = await gw.request(ConfirmTotpDocument, { code: app.generate({ timestamp: now }) }, { token: account.accessToken });
  expect(confirmed.errors).toBeUndefined();
  now += STEP; // each code works once
  return { ...account, app };
}

/** A fresh aal2 session: password, then a TOTP code. */
async function aal2Session() {
  const account = await withTotp();
  const mfaToken = (await login(account.email)).mfaToken;
  const r = (await gw.request(VerifyTotpDocument, { input: { mfaToken, code: account.app.generate({ timestamp: now }) } })).data!.verifyTotp;
  now += STEP;
  expect(claims(r.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["pwd", "otp", "mfa"] });
  return { ...account, tokens: r.tokens! };
}

describe("refreshTokens: idle timeout (SESSION_IDLE_TIMEOUT_SECONDS)", () => {
  it("ends a session not refreshed for 7 days: refused, revoked, audited, and no longer listed", async () => {
    const idle = await signUp();
    let busy = (await login(idle.email)).tokens!;

    minutes(6 * 24 * 60);
    busy = (await refresh(busy.refreshToken)).data!.refreshTokens;
    minutes(24 * 60 + 1);

    // 7 days and a minute since `idle` was last used: gone from the list already.
    const listed = (await gw.request(SessionsDocument, {}, { token: busy.accessToken })).data!.sessions;
    expect(listed.map((s) => s.id)).toEqual([claims(busy.accessToken).sid]);

    const refused = await refresh(idle.refreshToken);
    expect(errorCode(refused)).toBe("UNAUTHENTICATED");
    expect(refused.errors![0].message).toMatch(/without use/);
    expect((await sessionRow(idle.accessToken)).revokedReason).toBe("idle_timeout");
    expect(await events(idle.userId, "session.idle_timeout")).toHaveLength(1);
    // Ended, not just unrefreshable: its access tokens stop too, and it stays ended.
    expect(await me(idle.accessToken)).toBeNull();
    expect(errorCode(await refresh(idle.refreshToken))).toBe("UNAUTHENTICATED");

    // The session in use goes on.
    expect((await refresh(busy.refreshToken)).errors).toBeUndefined();
  });

  it("counts from the last refresh, not from sign-in", async () => {
    let tokens = (await signUp()) as { accessToken: string; refreshToken: string };
    for (let day = 0; day < 3; day++) {
      minutes(6 * 24 * 60);
      const r = await refresh(tokens.refreshToken);
      expect(r.errors).toBeUndefined();
      tokens = r.data!.refreshTokens;
    }
  });
});

describe("refreshTokens: aal2 lapses (AAL2_MAX_AGE_SECONDS, AAL2_IDLE_SECONDS)", () => {
  it("12 h after the second factor, even refreshed all along, the next refresh is aal1 without otp and mfa", async () => {
    const u = await aal2Session();
    let tokens = u.tokens;
    for (let elapsed = 20; elapsed < 12 * 60; elapsed += 20) {
      minutes(20);
      tokens = (await refresh(tokens.refreshToken)).data!.refreshTokens;
      expect(claims(tokens.accessToken).aal).toBe("aal2");
    }
    minutes(20); // 12 h since verifyTotp

    tokens = (await refresh(tokens.refreshToken)).data!.refreshTokens;
    expect(claims(tokens.accessToken)).toMatchObject({ aal: "aal1", amr: ["pwd"] });
    expect(await sessionRow(tokens.accessToken)).toMatchObject({ aal: "aal1", amr: ["pwd"], aal2At: null });
    expect((await events(u.userId, "session.aal2_lapsed")).map((e) => e.detail)).toEqual([expect.objectContaining({ reason: "max_age" })]);

    // Still signed in, but what needs aal2 asks for a step-up again…
    expect(await me(tokens.accessToken)).not.toBeNull();
    const change = await gw.request(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: "another horse battery staple" } }, { token: tokens.accessToken });
    expect(errorCode(change)).toBe("FORBIDDEN");
    expect(change.errors![0].message).toMatch(/step-up/);

    // …which brings aal2 back, for another 12 h.
    const stepped = await gw.request(VerifyTotpDocument, { input: { code: u.app.generate({ timestamp: now }) } }, { token: tokens.accessToken });
    expect(claims(stepped.data!.verifyTotp.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["pwd", "otp", "mfa"] });
    minutes(20);
    expect(claims((await refresh(stepped.data!.verifyTotp.tokens!.refreshToken)).data!.refreshTokens.accessToken).aal).toBe("aal2");
  });

  it("after 30 min without a refresh, the next refresh is aal1; the session itself lives on", async () => {
    const u = await aal2Session();
    minutes(29);
    const kept = (await refresh(u.tokens.refreshToken)).data!.refreshTokens;
    expect(claims(kept.accessToken).aal).toBe("aal2");

    minutes(30);
    // The list already shows the session as its next refresh will be.
    const listed = (await gw.request(SessionsDocument, {}, { token: kept.accessToken })).data!.sessions;
    expect(listed.find((s) => s.current)).toMatchObject({ aal: "aal1", amr: ["pwd"] });

    const lapsed = (await refresh(kept.refreshToken)).data!.refreshTokens;
    expect(claims(lapsed.accessToken)).toMatchObject({ aal: "aal1", amr: ["pwd"] });
    expect((await events(u.userId, "session.aal2_lapsed")).map((e) => e.detail)).toEqual([expect.objectContaining({ reason: "idle" })]);
    expect(await me(lapsed.accessToken)).not.toBeNull();
    minutes(1);
    expect(claims((await refresh(lapsed.refreshToken)).data!.refreshTokens.accessToken).aal).toBe("aal1");
  });

  it("an aal2 access token issued before the lapse no longer passes account changes", async () => {
    const u = await aal2Session();
    let tokens = u.tokens;
    for (let i = 0; i < 28; i++) {
      minutes(25);
      tokens = (await refresh(tokens.refreshToken)).data!.refreshTokens;
    }
    expect(claims(tokens.accessToken).aal).toBe("aal2"); // 11 h 40 min in
    minutes(25); // past 12 h, while the token still says aal2

    const change = await gw.request(ChangePasswordDocument, { input: { currentPassword: PASSWORD, newPassword: "another horse battery staple" } }, { token: tokens.accessToken });
    expect(errorCode(change)).toBe("FORBIDDEN");
    expect(change.errors![0].message).toMatch(/step-up/);
  });
});

describe("confirmTotp", () => {
  it("ends every other session of the account; the caller's stays as it was", async () => {
    const caller = await signUp();
    const others = [(await login(caller.email)).tokens!, (await login(caller.email)).tokens!];
    const enrolment = (await gw.request(EnrollTotpDocument, {}, { token: caller.accessToken })).data!.enrollTotp;
    const app = URI.parse(enrolment.otpauthUrl) as TOTP;
    expect((await gw.request(ConfirmTotpDocument, { code: app.generate({ timestamp: now }) }, { token: caller.accessToken })).errors).toBeUndefined();

    for (const other of others) {
      expect(await me(other.accessToken)).toBeNull();
      expect(errorCode(await refresh(other.refreshToken))).toBe("UNAUTHENTICATED");
      expect((await sessionRow(other.accessToken)).revokedReason).toBe("totp_enabled");
    }
    expect(await me(caller.accessToken)).not.toBeNull();
    const next = (await refresh(caller.refreshToken)).data!.refreshTokens;
    // Its tokens said aal1 and confirmTotp returns none: it steps up like any aal1 session.
    expect(claims(next.accessToken)).toMatchObject({ aal: "aal1", amr: ["pwd"] });
    expect((await gw.request(SessionsDocument, {}, { token: next.accessToken })).data!.sessions).toHaveLength(1);
    expect((await events(caller.userId, "totp.enabled")).map((e) => e.detail)).toEqual([{ otherSessionsEnded: 2 }]);
  });
});
