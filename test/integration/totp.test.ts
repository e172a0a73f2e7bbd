import jsQR from "jsqr";
import { Secret, TOTP, URI } from "otpauth";
import { PNG } from "pngjs";
import {
  ConfirmTotpDocument,
  DisableTotpDocument,
  EnrollTotpDocument,
  LoginDocument,
  MeDocument,
  RegenerateRecoveryCodesDocument,
  SignUpDocument,
  UseRecoveryCodeDocument,
  VerifyTotpDocument,
} from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

/**
 * The gateway's clock, moved by the tests: each TOTP step (30 s) can be used once. It starts
 * an hour behind Postgres' clock (which stamps sessions) at the start of a step, so every
 * session here counts as a recent sign-in (enrollTotp asks for one) however many steps pass.
 */
let now = Math.floor(Date.now() / 30_000) * 30_000 - 3_600_000;
const clock = { now: () => new Date(now) };
const nextStep = () => (now += 30_000);

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ clock, env: { APP_NAME: "Acme Auth" } });
});
afterAll(() => gw.close());

/** An independent authenticator app (the `otpauth` package), set up from the QR code. */
function appFromQr(dataUrl: string): TOTP {
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ""), "base64"));
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return URI.parse(decoded!.data) as TOTP;
}
const codeOf = (app: TOTP) => app.generate({ timestamp: now });

let n = 0;
async function enrolledUser() {
  const email = `totp${++n}@example.com`;
  const s = await gw.request(SignUpDocument, { input: { email, password: "correct horse battery" } });
  const token = s.data!.signUp.tokens!.accessToken;
  const e = (await gw.request(EnrollTotpDocument, {}, { token })).data!.enrollTotp;
  // The QR code is read back in its own test; decoding it for every account here costs ~1 s each.
  const app = URI.parse(e.otpauthUrl) as TOTP;
  const recovery = (await gw.request(ConfirmTotpDocument, { code: codeOf(app) }, { token })).data!.confirmTotp.codes;
  nextStep();
  return { email, token, app, recovery, secret: e.secret, userId: s.data!.signUp.user!.id };
}
/** The user's session stepped up to aal2 with a code (disabling TOTP needs it); its new access token. */
async function steppedUp(u: { token: string; app: TOTP }): Promise<string> {
  const r = await gw.request(VerifyTotpDocument, { input: { code: codeOf(u.app) } }, { token: u.token });
  nextStep();
  return r.data!.verifyTotp.tokens!.accessToken;
}
const login = async (email: string) =>
  (await gw.request(LoginDocument, { input: { email, password: "correct horse battery" } })).data!.login;
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

describe("enrollTotp + confirmTotp", () => {
  it("gives a QR code that any authenticator reads: issuer, email, SHA1, 6 digits, 30 s", async () => {
    const s = await gw.request(SignUpDocument, { input: { email: "qr+test@example.com", password: "correct horse battery" } });
    const e = (await gw.request(EnrollTotpDocument, {}, { token: s.data!.signUp.tokens!.accessToken })).data!.enrollTotp;
    const app = appFromQr(e.qrCodeDataUrl);
    expect(app).toMatchObject({ issuer: "Acme Auth", label: "qr+test@example.com", algorithm: "SHA1", digits: 6, period: 30 });
    expect(app.secret.base32).toBe(e.secret);
    expect(Secret.fromBase32(e.secret).bytes).toHaveLength(20);
    expect(e.otpauthUrl).toMatch(/^otpauth:\/\/totp\/Acme%20Auth:qr%2Btest%40example\.com\?/);
  });

  it("turns TOTP on with a first code, returns ten recovery codes, and seals the secret at rest", async () => {
    const u = await enrolledUser();
    expect(u.recovery).toHaveLength(10);
    expect(new Set(u.recovery).size).toBe(10);
    expect((await gw.request(MeDocument, {}, { token: u.token })).data!.me!.totpEnabled).toBe(true);
    const row = await gw.db.db.prisma.totpFactor.findUniqueOrThrow({ where: { userId: u.userId } });
    expect(row.secretSealed).not.toContain(u.secret);
    const codes = await gw.db.db.prisma.recoveryCode.findMany({ where: { userId: u.userId } });
    expect(JSON.stringify(codes)).not.toContain(u.recovery[0].replace("-", ""));
    expect(await gw.db.db.prisma.authEvent.count({ where: { userId: u.userId, type: "totp.enabled" } })).toBe(1);
  });

  it("refuses a wrong first code", async () => {
    const s = await gw.request(SignUpDocument, { input: { email: "wrongfirst@example.com", password: "correct horse battery" } });
    const token = s.data!.signUp.tokens!.accessToken;
    await gw.request(EnrollTotpDocument, {}, { token });
    expect(errorCode(await gw.request(ConfirmTotpDocument, { code: "000000" }, { token }))).toBe("INVALID_CODE");
  });

  it("needs a current code to replace an app that is on, and tells the owner's proven email once replaced", async () => {
    const u = await enrolledUser();
    await gw.db.db.prisma.user.update({ where: { id: u.userId }, data: { emailVerified: true } });
    const token = await steppedUp(u);
    expect(errorCode(await gw.request(EnrollTotpDocument, {}, { token }))).toBe("BAD_USER_INPUT");
    const again = await gw.request(EnrollTotpDocument, { code: codeOf(u.app) }, { token });
    expect(again.data!.enrollTotp.secret).not.toBe(u.secret);
    nextStep();
    const newApp = URI.parse(again.data!.enrollTotp.otpauthUrl) as TOTP;
    expect((await gw.request(ConfirmTotpDocument, { code: codeOf(newApp) }, { token })).errors).toBeUndefined();
    nextStep();
    const [notice] = await gw.sentTo(u.email, 1);
    expect(notice.subject).toBe("Your Acme Auth account has a new authenticator app");
    const enabled = await gw.db.db.prisma.authEvent.findMany({ where: { userId: u.userId, type: "totp.enabled" }, orderBy: { at: "asc" } });
    expect(enabled.map((e) => e.detail)).toEqual([{ otherSessionsEnded: 0 }, { otherSessionsEnded: 0, replaced: true }]);
  });
});

describe("login with TOTP", () => {
  it("answers MFA_REQUIRED with no user details, then verifyTotp gives aal2 with pwd + otp + mfa", async () => {
    const u = await enrolledUser();
    const first = await login(u.email);
    expect(first).toMatchObject({ status: "MFA_REQUIRED", tokens: null, user: null, mfaMethods: ["TOTP", "RECOVERY_CODE"] });
    const r = await gw.request(VerifyTotpDocument, { input: { mfaToken: first.mfaToken, code: codeOf(u.app) } });
    expect(r.data!.verifyTotp.status).toBe("AUTHENTICATED");
    expect(claims(r.data!.verifyTotp.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["pwd", "otp", "mfa"] });
  });

  it("refuses the same code twice (replay), even with a fresh mfaToken", async () => {
    const u = await enrolledUser();
    const code = codeOf(u.app);
    expect((await gw.request(VerifyTotpDocument, { input: { mfaToken: (await login(u.email)).mfaToken, code } })).data!.verifyTotp.status).toBe("AUTHENTICATED");
    const replay = await gw.request(VerifyTotpDocument, { input: { mfaToken: (await login(u.email)).mfaToken, code } });
    expect(errorCode(replay)).toBe("INVALID_CODE");
    expect(replay.errors![0].message).toMatch(/used already/);
  });

  it("accepts a code one step early or late, not two", async () => {
    const u = await enrolledUser();
    const late = u.app.generate({ timestamp: now - 30_000 });
    expect(errorCode(await gw.request(VerifyTotpDocument, { input: { mfaToken: (await login(u.email)).mfaToken, code: u.app.generate({ timestamp: now - 60_000 }) } }))).toBe("INVALID_CODE");
    nextStep();
    nextStep();
    expect(errorCode(await gw.request(VerifyTotpDocument, { input: { mfaToken: (await login(u.email)).mfaToken, code: late } }))).toBe("INVALID_CODE");
    const early = u.app.generate({ timestamp: now + 30_000 });
    expect((await gw.request(VerifyTotpDocument, { input: { mfaToken: (await login(u.email)).mfaToken, code: early } })).data!.verifyTotp.status).toBe("AUTHENTICATED");
    nextStep();
    nextStep();
  });

  it("limits attempts per mfaToken: the sixth is RATE_LIMITED", async () => {
    const u = await enrolledUser();
    const mfaToken = (await login(u.email)).mfaToken;
    for (let i = 0; i < 5; i++) expect(errorCode(await gw.request(VerifyTotpDocument, { input: { mfaToken, code: "000000" } }))).toBe("INVALID_CODE");
    expect(errorCode(await gw.request(VerifyTotpDocument, { input: { mfaToken, code: codeOf(u.app) } }))).toBe("RATE_LIMITED");
  });

  it("counts the attempts by the token, not by its spelling: another encoding of the same signature shares the limit", async () => {
    const u = await enrolledUser();
    const mfaToken = (await login(u.email)).mfaToken!;
    // The signature's last base64url character carries 4 bits past its 64 bytes: another value there decodes the same.
    const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = mfaToken.slice(0, -1) + ALPHABET[ALPHABET.indexOf(mfaToken.at(-1)!) ^ 1];
    expect(respelled).not.toBe(mfaToken);
    for (let i = 0; i < 5; i++) expect(errorCode(await gw.request(VerifyTotpDocument, { input: { mfaToken, code: "000000" } }))).toBe("INVALID_CODE");
    expect(errorCode(await gw.request(VerifyTotpDocument, { input: { mfaToken: respelled, code: codeOf(u.app) } }))).toBe("RATE_LIMITED");
  });

  it("never takes an mfaToken as an access token", async () => {
    const u = await enrolledUser();
    const mfaToken = (await login(u.email)).mfaToken!;
    expect((await gw.request(MeDocument, {}, { token: mfaToken })).data!.me).toBeNull();
    expect(errorCode(await gw.request(VerifyTotpDocument, { input: { mfaToken: u.token, code: codeOf(u.app) } }))).toBe("UNAUTHENTICATED");
  });
});

describe("recovery codes", () => {
  it("sign in once each; the second use is refused", async () => {
    const u = await enrolledUser();
    const use = async () => gw.request(UseRecoveryCodeDocument, { input: { mfaToken: (await login(u.email)).mfaToken!, code: u.recovery[3].toLowerCase() } });
    const first = await use();
    expect(claims(first.data!.useRecoveryCode.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["pwd", "otp", "mfa"] });
    expect(errorCode(await use())).toBe("INVALID_CODE");
  });

  it("regenerating them retires the old ones", async () => {
    const u = await enrolledUser();
    const token = await steppedUp(u);
    const fresh = (await gw.request(RegenerateRecoveryCodesDocument, { code: codeOf(u.app) }, { token })).data!.regenerateRecoveryCodes.codes;
    nextStep();
    expect(fresh).toHaveLength(10);
    const old = await gw.request(UseRecoveryCodeDocument, { input: { mfaToken: (await login(u.email)).mfaToken!, code: u.recovery[0] } });
    expect(errorCode(old)).toBe("INVALID_CODE");
    const ok = await gw.request(UseRecoveryCodeDocument, { input: { mfaToken: (await login(u.email)).mfaToken!, code: fresh[0] } });
    expect(ok.data!.useRecoveryCode.status).toBe("AUTHENTICATED");
  });
});

describe("step-up and disable", () => {
  it("verifyTotp without mfaToken raises the caller's aal1 session to aal2 with new tokens", async () => {
    const u = await enrolledUser();
    expect(claims(u.token).aal).toBe("aal1");
    const r = await gw.request(VerifyTotpDocument, { input: { code: codeOf(u.app) } }, { token: u.token });
    const t = r.data!.verifyTotp.tokens!;
    expect(claims(t.accessToken)).toMatchObject({ aal: "aal2", sid: claims(u.token).sid, amr: ["pwd", "otp", "mfa"] });
    expect(r.data!.verifyTotp.user!.email).toBe(u.email);
    nextStep();
  });

  it("disableTotp needs a current or recovery code, then logins need no second factor", async () => {
    const u = await enrolledUser();
    const token = await steppedUp(u);
    expect(errorCode(await gw.request(DisableTotpDocument, { code: "000000" }, { token }))).toBe("INVALID_CODE");
    expect((await gw.request(DisableTotpDocument, { code: u.recovery[9] }, { token })).data!.disableTotp).toBe(true);
    expect((await login(u.email)).status).toBe("AUTHENTICATED");
    expect(await gw.db.db.prisma.authEvent.count({ where: { userId: u.userId, type: "totp.disabled", ok: true } })).toBe(1);
  });

  it("disableTotp needs an aal2 session: an aal1 one is FORBIDDEN, even with a right code", async () => {
    const u = await enrolledUser();
    const r = await gw.request(DisableTotpDocument, { code: u.recovery[0] }, { token: u.token });
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toMatch(/step-up/);
    expect((await gw.request(MeDocument, {}, { token: u.token })).data!.me!.totpEnabled).toBe(true);
  });

  it("disableTotp counts the attempt before it looks at a recovery code: a right one is RATE_LIMITED past the limit", async () => {
    const u = await enrolledUser();
    const token = await steppedUp(u);
    for (let i = 0; i < 10; i++) expect(errorCode(await gw.request(DisableTotpDocument, { code: "WRONG-CODE1" }, { token }))).toBe("INVALID_CODE");
    expect(errorCode(await gw.request(DisableTotpDocument, { code: u.recovery[0] }, { token }))).toBe("RATE_LIMITED");
    expect((await gw.request(MeDocument, {}, { token })).data!.me!.totpEnabled).toBe(true);
  });

  it("disableTotp and regenerateRecoveryCodes each send the owner's proven email a notice", async () => {
    const u = await enrolledUser();
    await gw.db.db.prisma.user.update({ where: { id: u.userId }, data: { emailVerified: true } });
    const token = await steppedUp(u);
    expect((await gw.request(RegenerateRecoveryCodesDocument, { code: codeOf(u.app) }, { token })).errors).toBeUndefined();
    nextStep();
    const [regenerated] = await gw.sentTo(u.email, 1);
    expect(regenerated.subject).toBe("New recovery codes for your Acme Auth account");
    expect(regenerated.text).not.toMatch(/[A-Z0-9]{5}-[A-Z0-9]{5}/);
    expect((await gw.request(DisableTotpDocument, { code: codeOf(u.app) }, { token })).data!.disableTotp).toBe(true);
    nextStep();
    const [disabled] = await gw.sentTo(u.email, 2);
    expect(disabled.subject).toBe("Two-step sign-in was turned off for your Acme Auth account");
    expect(disabled.text).toMatch(/If it was not you, sign in with a code/);
  });
});

describe("clock drift (RFC 6238 §6)", () => {
  it("tells the user, once, when their device is consistently a step ahead", async () => {
    const u = await enrolledUser();
    for (let i = 0; i < 4; i++) {
      const ahead = u.app.generate({ timestamp: now + 30_000 });
      const r = await gw.request(VerifyTotpDocument, { input: { mfaToken: (await login(u.email)).mfaToken, code: ahead } });
      expect(r.data!.verifyTotp.status).toBe("AUTHENTICATED");
      nextStep();
      nextStep();
    }
    const drift = await gw.db.db.prisma.authEvent.findMany({ where: { userId: u.userId, type: "totp.clock_drift" } });
    expect(drift.map((e) => e.detail)).toEqual([{ offsetSteps: 1 }]);
  });
});

describe("TOTP_ENCRYPTION_KEY rotation", () => {
  it("opens secrets sealed under a previous key and re-seals them under the new one on use", async () => {
    const oldKey = `k1:${Buffer.alloc(32, 1).toString("base64")}`;
    const newKey = `k2:${Buffer.alloc(32, 2).toString("base64")}`;
    const before = await startTestGateway({ clock, env: { TOTP_ENCRYPTION_KEY: oldKey } });
    const after = await startTestGateway({ clock, db: before.db, env: { TOTP_ENCRYPTION_KEY: newKey, TOTP_ENCRYPTION_KEY_PREVIOUS: oldKey } });
    try {
      const s = await before.request(SignUpDocument, { input: { email: "rotate@example.com", password: "correct horse battery" } });
      const token = s.data!.signUp.tokens!.accessToken;
      const app = appFromQr((await before.request(EnrollTotpDocument, {}, { token })).data!.enrollTotp.qrCodeDataUrl);
      const recovery = (await before.request(ConfirmTotpDocument, { code: codeOf(app) }, { token })).data!.confirmTotp.codes;
      nextStep();
      const row = () => before.db.db.prisma.totpFactor.findFirstOrThrow({ where: { user: { email: "rotate@example.com" } } });
      expect((await row()).secretSealed).toMatch(/^v1\.k1\./);

      const mfaToken = (await after.request(LoginDocument, { input: { email: "rotate@example.com", password: "correct horse battery" } })).data!.login.mfaToken;
      const r = await after.request(VerifyTotpDocument, { input: { mfaToken, code: codeOf(app) } });
      expect(r.data!.verifyTotp.status).toBe("AUTHENTICATED");
      expect((await row()).secretSealed).toMatch(/^v1\.k2\./);
      nextStep();
      // The two gateways also sign with different keys: recovery codes survive that too.
      const mfa2 = (await after.request(LoginDocument, { input: { email: "rotate@example.com", password: "correct horse battery" } })).data!.login.mfaToken!;
      const viaCode = await after.request(UseRecoveryCodeDocument, { input: { mfaToken: mfa2, code: recovery[0] } });
      expect(viaCode.data!.useRecoveryCode.status).toBe("AUTHENTICATED");
    } finally {
      await after.close();
      await before.close();
    }
  });
});
