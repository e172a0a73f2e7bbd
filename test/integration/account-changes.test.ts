import { URI, type TOTP } from "otpauth";
import {
  ChangePasswordDocument,
  ConfirmTotpDocument,
  DisableTotpDocument,
  EnrollTotpDocument,
  HasPasswordDocument,
  LoginDocument,
  MeDocument,
  RefreshTokensDocument,
  RegenerateRecoveryCodesDocument,
  RequestOtpDocument,
  SignUpDocument,
  VerifyOtpDocument,
  VerifyTotpDocument,
} from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

/*
 * Changes that could hand the account to someone else (the password, the email, the
 * phone): guarded against stolen sessions the same way.
 */

/**
 * The gateway's clock runs with the real one (sessions are stamped by Postgres) plus an
 * offset the tests move: 16 minutes on makes every earlier sign-in "not recent".
 */
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ clock, env: { LOGIN_MAX_FAILURES: "3", SMS_ALLOWED_COUNTRIES: "US", APP_NAME: "Acme" } });
});
afterAll(() => gw.close());
beforeEach(() => {
  offset = 0;
});

const OLD = "correct horse battery";
const NEW = "a brand new passphrase";
let n = 0;
const newEmail = (tag: string) => `${tag}${++n}@example.com`;

async function signUp(email: string) {
  const r = await gw.request(SignUpDocument, { input: { email, password: OLD } });
  return r.data!.signUp.tokens!;
}
const login = (email: string, password: string) => gw.request(LoginDocument, { input: { email, password } });
const change = (token: string | undefined, newPassword: string, currentPassword?: string) =>
  gw.request(ChangePasswordDocument, { input: { newPassword, currentPassword } }, { token });
const passwordHash = async (email: string) => (await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } })).passwordHash;

/** Turns TOTP on for the caller (the session itself stays aal1); returns the authenticator app. */
async function turnOnTotp(token: string): Promise<TOTP> {
  const enrollment = (await gw.request(EnrollTotpDocument, {}, { token })).data!.enrollTotp;
  const app = URI.parse(enrollment.otpauthUrl) as TOTP;
  await gw.request(ConfirmTotpDocument, { code: app.generate({ timestamp: clock.now().getTime() }) }, { token });
  return app;
}

/** Signs in with an email code: how someone who forgot their password gets in. */
async function signInWithEmailCode(email: string) {
  const challenge = (await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: email, purpose: "SIGN_IN" } })).data!.requestOtp;
  const code = await gw.codeSentTo(email);
  return (await gw.request(VerifyOtpDocument, { input: { challengeId: challenge.challengeId, code } })).data!.verifyOtp;
}

describe("changePassword", () => {
  it("with the current password: the new one signs in, the old one no longer does; other sessions end, this one goes on", async () => {
    const email = newEmail("change");
    const here = await signUp(email);
    const elsewhere = (await login(email, OLD)).data!.login.tokens!;

    const r = await change(here.accessToken, NEW, OLD);
    expect(r.errors).toBeUndefined();
    expect(r.data!.changePassword).toBe(true);

    expect(errorCode(await login(email, OLD))).toBe("UNAUTHENTICATED");
    expect((await login(email, NEW)).data!.login.status).toBe("AUTHENTICATED");
    // The other device is out at once, access and refresh token alike.
    expect((await gw.request(MeDocument, {}, { token: elsewhere.accessToken })).data!.me).toBeNull();
    expect(errorCode(await gw.request(RefreshTokensDocument, { refreshToken: elsewhere.refreshToken }))).toBe("UNAUTHENTICATED");
    expect((await gw.request(MeDocument, {}, { token: here.accessToken })).data!.me!.email).toBe(email);

    const user = await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } });
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    const [event] = await gw.db.db.prisma.authEvent.findMany({ where: { userId: user.id, type: "password.changed" } });
    expect(event).toMatchObject({ ok: true, detail: { set: false, proof: "current_password", otherSessionsEnded: 1 } });
  });

  it("refuses a wrong current password on its field, changes nothing, and spends the account's login attempts", async () => {
    const email = newEmail("wrong");
    const { accessToken } = await signUp(email);
    const before = await passwordHash(email);

    // Five at once against LOGIN_MAX_FAILURES=3: concurrency buys no extra guesses.
    const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => change(accessToken, NEW, `not it ${i} at all`)));
    const codes = replies.map(errorCode).sort();
    expect(codes).toEqual(["BAD_USER_INPUT", "BAD_USER_INPUT", "BAD_USER_INPUT", "RATE_LIMITED", "RATE_LIMITED"]);
    const refused = replies.find((r) => errorCode(r) === "BAD_USER_INPUT")!;
    expect(refused.errors![0]).toMatchObject({ message: "That is not your current password.", extensions: { field: "currentPassword" } });
    // Out of attempts, the right password waits too, as a login would.
    expect(errorCode(await change(accessToken, NEW, OLD))).toBe("RATE_LIMITED");
    expect(await passwordHash(email)).toBe(before);
  });

  it("a right current password clears the account's failed attempts, as a login does", async () => {
    const email = newEmail("reset");
    const { accessToken } = await signUp(email);
    for (const attempt of ["wrong guess one", "wrong guess two"]) expect(errorCode(await change(accessToken, NEW, attempt))).toBe("BAD_USER_INPUT");
    expect((await change(accessToken, NEW, OLD)).data!.changePassword).toBe(true);
    // Three more tries are allowed again (LOGIN_MAX_FAILURES=3), the fourth is not.
    const codes = [];
    for (const attempt of ["wrong 3", "wrong 4", "wrong 5", "wrong 6"]) codes.push(errorCode(await change(accessToken, OLD, `${attempt} guess`)));
    expect(codes).toEqual(["BAD_USER_INPUT", "BAD_USER_INPUT", "BAD_USER_INPUT", "RATE_LIMITED"]);
  });

  it("checks the new password as sign-up does, on the newPassword field", async () => {
    const email = newEmail("weak");
    const { accessToken } = await signUp(email);
    const r = await change(accessToken, "iloveyou123", OLD);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0]).toMatchObject({ message: expect.stringMatching(/too common/), extensions: { field: "newPassword" } });
    expect(errorCode(await change(accessToken, email, OLD))).toBe("BAD_USER_INPUT");
  });

  it("a forgotten password: sign in with an email code, then set a new one without the old; the proven address is told", async () => {
    const email = newEmail("forgot");
    await signUp(email);
    const signedIn = await signInWithEmailCode(email);
    expect(signedIn.status).toBe("AUTHENTICATED");
    const token = signedIn.tokens!.accessToken;

    expect((await change(token, NEW)).data!.changePassword).toBe(true);
    expect((await login(email, NEW)).data!.login.status).toBe("AUTHENTICATED");
    const [notice] = (await gw.sentTo(email, 2)).filter((m) => m.subject?.startsWith("Your Acme password"));
    expect(notice.subject).toMatch(/^Your Acme password was (set|changed)$/);
    expect(notice.text).toMatch(/If it was not you, sign in with a code/);
    expect(notice.text).not.toContain(NEW);
  });

  it("without the current password, refuses a session that signed in more than 15 minutes ago", async () => {
    const email = newEmail("stale");
    const { accessToken } = await signUp(email);
    offset = 16 * 60_000;
    const r = await change(accessToken, NEW);
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toMatch(/current password, or sign in again/);
    const user = await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } });
    const [event] = await gw.db.db.prisma.authEvent.findMany({ where: { userId: user.id, type: "password.changed" } });
    expect(event).toMatchObject({ ok: false, detail: { reason: "sign_in_not_recent" } });
    // The same session with the current password is fine.
    expect((await change(accessToken, NEW, OLD)).data!.changePassword).toBe(true);
  });

  it("with TOTP on, needs an aal2 session: a step-up first", async () => {
    const email = newEmail("totp");
    const { accessToken } = await signUp(email);
    const app = await turnOnTotp(accessToken);

    const r = await change(accessToken, NEW, OLD);
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toMatch(/authenticator app/);

    offset += 30_000; // the next TOTP step: a code is accepted once
    const stepped = await gw.request(VerifyTotpDocument, { input: { code: app.generate({ timestamp: clock.now().getTime() }) } }, { token: accessToken });
    const aal2 = stepped.data!.verifyTotp.tokens!.accessToken;
    expect((await change(aal2, NEW, OLD)).data!.changePassword).toBe(true);
  });

  it("needs a signed-in caller", async () => {
    expect(errorCode(await change(undefined, NEW, OLD))).toBe("UNAUTHENTICATED");
  });

  it("refuses an account without an email (password sign-in needs one)", async () => {
    const phone = "+16505550188";
    const challenge = (await gw.request(RequestOtpDocument, { input: { channel: "SMS", destination: phone, purpose: "SIGN_IN" } })).data!.requestOtp;
    const v = await gw.request(VerifyOtpDocument, { input: { challengeId: challenge.challengeId, code: await gw.codeSentTo(phone) } });
    const r = await change(v.data!.verifyOtp.tokens!.accessToken, NEW);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0]).toMatchObject({ extensions: { field: "newPassword" }, message: expect.stringMatching(/email address/) });
  });
});

describe("User.hasPassword", () => {
  it("tells the owner whether the account has a password", async () => {
    const withPassword = await signUp(newEmail("has"));
    expect((await gw.request(HasPasswordDocument, {}, { token: withPassword.accessToken })).data!.me!.hasPassword).toBe(true);
    const passwordless = await signInWithEmailCode(newEmail("none"));
    expect((await gw.request(HasPasswordDocument, {}, { token: passwordless.tokens!.accessToken })).data!.me!.hasPassword).toBe(false);
  });

  it("is null for anyone else (other subgraphs resolving the user)", async () => {
    const tokens = await signUp(newEmail("private"));
    const id = (await gw.request(HasPasswordDocument, {}, { token: tokens.accessToken })).data!.me!.id;
    const r = await gw.request<{ _entities: Array<{ hasPassword: boolean | null }> }, { r: unknown[] }>(
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { hasPassword } } }",
      { r: [{ __typename: "User", id }] },
    );
    expect(r.data!._entities).toEqual([{ hasPassword: null }]);
  });
});

describe("requestOtp VERIFY_CONTACT as an account change", () => {
  const verifyContact = (token: string, channel: "EMAIL" | "SMS", destination: string) =>
    gw.request(RequestOtpDocument, { input: { channel, destination, purpose: "VERIFY_CONTACT" } }, { token });
  const verifyCode = (token: string, challengeId: string, code: string) => gw.request(VerifyOtpDocument, { input: { challengeId, code } }, { token });

  it("replacing a proven email: from a recent sign-in, and the old address is told", async () => {
    const old = newEmail("mover");
    const next = newEmail("moved");
    const token = (await signInWithEmailCode(old)).tokens!.accessToken;
    const challenge = (await verifyContact(token, "EMAIL", next)).data!.requestOtp;
    const v = await verifyCode(token, challenge.challengeId, await gw.codeSentTo(next));
    expect(v.errors).toBeUndefined();
    expect((await gw.request(MeDocument, {}, { token })).data!.me).toMatchObject({ email: next, emailVerified: true });
    const [notice] = await gw.sentTo(old, 2);
    expect(notice.subject).toBe("Your Acme email address was changed");
    expect(notice.text).toContain(`${next[0]}***@example.com`);
  });

  it("refuses to add or replace an address from a session that signed in more than 15 minutes ago; no code is sent", async () => {
    const email = newEmail("oldsession");
    const token = (await signInWithEmailCode(email)).tokens!.accessToken;
    offset = 16 * 60_000;
    const r = await verifyContact(token, "EMAIL", newEmail("thief"));
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toBe("Sign in again to change your email address: it needs a sign-in from the last 15 minutes.");
    expect(r.data).toBeNull();
    const phone = await verifyContact(token, "SMS", "+16505550177");
    expect(phone.errors![0].message).toMatch(/change your phone number/);
  });

  it("checks again at verify: a session that aged past 15 minutes since the code was sent changes nothing", async () => {
    const email = newEmail("aging");
    const next = newEmail("aged");
    const token = (await signInWithEmailCode(email)).tokens!.accessToken;
    offset = 14 * 60_000;
    const challenge = (await verifyContact(token, "EMAIL", next)).data!.requestOtp;
    offset = 16 * 60_000;
    const v = await verifyCode(token, challenge.challengeId, await gw.codeSentTo(next));
    expect(errorCode(v)).toBe("FORBIDDEN");
    expect((await gw.request(MeDocument, {}, { token })).data!.me!.email).toBe(email);
    const user = await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } });
    const [event] = await gw.db.db.prisma.authEvent.findMany({ where: { userId: user.id, type: "contact.verified" } });
    expect(event).toMatchObject({ ok: false, detail: { channel: "EMAIL", reason: "sign_in_not_recent" } });
  });

  it("proving the address already on the account needs no recent sign-in", async () => {
    const email = newEmail("unproven");
    const { accessToken } = await signUp(email);
    offset = 16 * 60_000;
    const challenge = (await verifyContact(accessToken, "EMAIL", email)).data!.requestOtp;
    expect((await verifyCode(accessToken, challenge.challengeId, await gw.codeSentTo(email))).errors).toBeUndefined();
    expect((await gw.request(MeDocument, {}, { token: accessToken })).data!.me).toMatchObject({ email, emailVerified: true });
  });

  it("with TOTP on, needs an aal2 session", async () => {
    const email = newEmail("totpcontact");
    const { accessToken } = await signUp(email);
    await turnOnTotp(accessToken);
    const r = await verifyContact(accessToken, "SMS", "+16505550166");
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toBe("Confirm with your authenticator app first (step-up), then change your phone number.");
  });
});

describe("enrollTotp as an account change", () => {
  it("turning TOTP on needs a sign-in from the last 15 minutes (a thief's app would lock the owner out)", async () => {
    const email = newEmail("enrol");
    const { accessToken } = await signUp(email);
    offset = 16 * 60_000;
    const r = await gw.request(EnrollTotpDocument, {}, { token: accessToken });
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toMatch(/Sign in again to set up an authenticator app/);
    // Signed in again: fine. (Sessions are stamped by Postgres' clock, so the offset goes.)
    offset = 0;
    const fresh = (await login(email, OLD)).data!.login.tokens!.accessToken;
    expect((await gw.request(EnrollTotpDocument, {}, { token: fresh })).data!.enrollTotp.secret).toMatch(/^[A-Z2-7]+$/);
  });
});

describe("disableTotp as an account change", () => {
  it("needs a sign-in from the last 15 minutes as well as aal2: an older aal2 session and a right code are not enough", async () => {
    const email = newEmail("untotp");
    const { accessToken } = await signUp(email);
    const app = await turnOnTotp(accessToken);
    const codeAt = (ms: number) => app.generate({ timestamp: ms });
    // A later step than confirmTotp's: each step is accepted once.
    const stepUp = await gw.request(VerifyTotpDocument, { input: { code: codeAt(clock.now().getTime() + 30_000) } }, { token: accessToken });
    const aal2 = stepUp.data!.verifyTotp.tokens!.accessToken;
    offset = 16 * 60_000;
    const r = await gw.request(DisableTotpDocument, { code: codeAt(clock.now().getTime()) }, { token: aal2 });
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toBe("Sign in again to turn the authenticator app off: it needs a sign-in from the last 15 minutes.");
    expect((await gw.request(MeDocument, {}, { token: aal2 })).data!.me!.totpEnabled).toBe(true);
    const user = await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } });
    expect(await gw.db.db.prisma.authEvent.findMany({ where: { userId: user.id, type: "totp.disabled" } })).toMatchObject([{ ok: false, detail: { reason: "sign_in_not_recent" } }]);
  });
});

describe("replacing the authenticator app and making new recovery codes as account changes", () => {
  /** An account with TOTP on, its aal1 and aal2 sessions, and a right code at each later step. */
  async function withTotp(tag: string) {
    const email = newEmail(tag);
    const { accessToken } = await signUp(email);
    const app = await turnOnTotp(accessToken);
    // The gateway's clock moves a step on for each code: each step is accepted once, and only near now.
    const nextCode = () => {
      offset += 30_000;
      return app.generate({ timestamp: clock.now().getTime() });
    };
    const aal2 = (await gw.request(VerifyTotpDocument, { input: { code: nextCode() } }, { token: accessToken })).data!.verifyTotp.tokens!.accessToken;
    const user = await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } });
    return { aal1: accessToken, aal2, nextCode, userId: user.id };
  }
  const recoveryCodeRows = (userId: string) => gw.db.db.prisma.recoveryCode.findMany({ where: { userId }, orderBy: { id: "asc" } });

  it("an aal1 session with a right code may do neither: a stolen session and one phished code are not enough", async () => {
    const u = await withTotp("replace-aal1");
    const before = await recoveryCodeRows(u.userId);
    const replace = await gw.request(EnrollTotpDocument, { code: u.nextCode() }, { token: u.aal1 });
    expect(errorCode(replace)).toBe("FORBIDDEN");
    expect(replace.errors![0].message).toMatch(/replace the authenticator app/);
    const regenerate = await gw.request(RegenerateRecoveryCodesDocument, { code: u.nextCode() }, { token: u.aal1 });
    expect(errorCode(regenerate)).toBe("FORBIDDEN");
    expect(await recoveryCodeRows(u.userId)).toEqual(before);
  });

  it("an aal2 session that signed in more than 15 minutes ago may do neither, and the refusals are on record", async () => {
    const u = await withTotp("replace-old");
    const before = await recoveryCodeRows(u.userId);
    offset += 16 * 60_000;
    expect(errorCode(await gw.request(EnrollTotpDocument, { code: u.nextCode() }, { token: u.aal2 }))).toBe("FORBIDDEN");
    expect(errorCode(await gw.request(RegenerateRecoveryCodesDocument, { code: u.nextCode() }, { token: u.aal2 }))).toBe("FORBIDDEN");
    expect(await recoveryCodeRows(u.userId)).toEqual(before);
    const refused = await gw.db.db.prisma.authEvent.findMany({ where: { userId: u.userId, ok: false }, orderBy: { at: "asc" } });
    expect(refused.map((e) => [e.type, (e.detail as { reason?: string }).reason])).toEqual([
      ["totp.enrollment_started", "sign_in_not_recent"],
      ["recovery_codes.regenerated", "sign_in_not_recent"],
    ]);
  });

  it("a recent aal2 session with a right code may do both", async () => {
    const u = await withTotp("replace-ok");
    expect((await gw.request(EnrollTotpDocument, { code: u.nextCode() }, { token: u.aal2 })).data!.enrollTotp.secret).toMatch(/^[A-Z2-7]+$/);
    expect((await gw.request(RegenerateRecoveryCodesDocument, { code: u.nextCode() }, { token: u.aal2 })).data!.regenerateRecoveryCodes.codes).toHaveLength(10);
  });
});

describe("a password change or a new authenticator app ends the sign-ins in flight", () => {
  it("an mfaToken from a login with the old password finishes no sign-in once the password changed", async () => {
    const email = newEmail("inflight");
    const { accessToken } = await signUp(email);
    const app = await turnOnTotp(accessToken);
    // The gateway's clock moves a step on for each code: each step is accepted once, and only near now.
    const nextCode = () => {
      offset += 30_000;
      return app.generate({ timestamp: clock.now().getTime() });
    };
    // The thief is past the old password, holding an mfaToken, when the owner changes it.
    const thief = (await login(email, OLD)).data!.login.mfaToken!;
    const owner = (await gw.request(VerifyTotpDocument, { input: { code: nextCode() } }, { token: accessToken })).data!.verifyTotp.tokens!.accessToken;
    expect((await change(owner, NEW, OLD)).data!.changePassword).toBe(true);
    const finished = await gw.request(VerifyTotpDocument, { input: { mfaToken: thief, code: nextCode() } });
    expect(errorCode(finished)).toBe("UNAUTHENTICATED");
    const user = await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } });
    expect(await gw.db.db.prisma.authEvent.findMany({ where: { userId: user.id, type: "session.refused" } })).toMatchObject([{ detail: { reason: "credentials_changed" } }]);
  });

  it("turning an app on raises the credentials version: a sign-in that read the account before gets no session", async () => {
    const email = newEmail("app-on");
    const { accessToken } = await signUp(email);
    const before = (await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } })).credentialsVersion;
    await turnOnTotp(accessToken);
    expect((await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } })).credentialsVersion).toBe(before + 1);
  });
});
