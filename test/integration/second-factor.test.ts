import { URI, type TOTP } from "otpauth";
import {
  ConfirmTotpDocument,
  ConsumeMagicLinkDocument,
  EnrollTotpDocument,
  LoginDocument,
  RequestMagicLinkDocument,
  RequestOtpDocument,
  SignUpDocument,
  UseRecoveryCodeDocument,
  VerifyOtpDocument,
  VerifyTotpDocument,
} from "../__generated__/graphql";
import { codeIn } from "../helpers/codes";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server";
import { providerSettings } from "../helpers/providers";
import { startTwilioEndpoint, type TwilioEndpoint } from "../helpers/twilio-endpoint";
import { waitFor } from "../helpers/wait";

/*
 * A second factor is a different authenticator from the first: a second code to the same
 * mailbox (or phone) proves nothing the first did not. Codes travel through a real SMTP
 * server and a Twilio-compatible endpoint.
 */

/** The gateway's clock, an hour behind Postgres' (every session is a recent sign-in), moved a TOTP step at a time. */
let now = Math.floor(Date.now() / 30_000) * 30_000 - 3_600_000;
const clock = { now: () => new Date(now) };
const nextStep = () => (now += 30_000);

let smtp: TestSmtpServer;
let twilio: TwilioEndpoint;
let gw: TestGateway;
beforeAll(async () => {
  smtp = await startSmtpServer();
  twilio = await startTwilioEndpoint();
  gw = await startTestGateway({
    clock,
    env: {
      ...providerSettings(smtp, twilio),
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      OTP_MAX_REQUESTS_PER_IP_PER_HOUR: "1000",
      SMS_ALLOWED_COUNTRIES: "US",
      SMS_PREFIX_VELOCITY_MAX: "1000",
    },
  });
});
afterAll(async () => {
  await gw.close();
  await smtp.close();
  await twilio.close();
});

const mailsTo = (to: string) => smtp.messages.filter((m) => m.envelopeTo.includes(to));
const textsTo = (to: string) => twilio.requests.filter((r) => r.form.To === to);

/** Runs `send` and returns its result with the code of the one message it caused to `to`. */
async function withCode<T>(to: string, send: () => Promise<T>): Promise<[T, string]> {
  const phone = to.startsWith("+");
  const before = phone ? textsTo(to).length : mailsTo(to).length;
  const result = await send();
  const textOf = (m: ReturnType<typeof mailsTo>[number] | ReturnType<typeof textsTo>[number]) =>
    "text" in m ? m.text : (m.form.Body ?? m.form.Twiml.replace(/, /g, ""));
  // The message with a code: a notice from an earlier step (e.g. "now has the phone number")
  // may still be arriving through the queue.
  const text = await waitFor(() => {
    const all: Array<Parameters<typeof textOf>[0]> = phone ? textsTo(to) : mailsTo(to);
    return all.slice(before).map(textOf).find((t) => /\b\d{6}\b/.test(t));
  }, `a message with a code to ${to}`);
  return [result, codeIn(text)];
}

const verify = (challengeId: string, code: string) => gw.request(VerifyOtpDocument, { input: { challengeId, code } });
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

async function signInByCode(channel: "EMAIL" | "SMS", destination: string) {
  const [r, code] = await withCode(destination, () => gw.request(RequestOtpDocument, { input: { channel, destination, purpose: "SIGN_IN" } }));
  return (await verify(r.data!.requestOtp.challengeId, code)).data!.verifyOtp;
}

async function mfaCode(channel: "EMAIL" | "SMS" | "VOICE", mfaToken: string, to: string) {
  const [r, code] = await withCode(to, () => gw.request(RequestOtpDocument, { input: { channel, purpose: "MFA", mfaToken } }));
  return verify(r.data!.requestOtp.challengeId, code);
}

const requestMfa = (channel: "EMAIL" | "SMS" | "VOICE", mfaToken: string) =>
  gw.request(RequestOtpDocument, { input: { channel, purpose: "MFA", mfaToken } });

let n = 0;
/** An account with a password, a proven email, a proven phone and an authenticator app. */
async function fullAccount() {
  const email = `factor${++n}@example.com`;
  const phone = `+1202555${String(1000 + n).slice(-4)}`;
  const token = (await gw.request(SignUpDocument, { input: { email, password: "correct horse battery" } })).data!.signUp.tokens!.accessToken;
  for (const [channel, destination] of [["EMAIL", email], ["SMS", phone]] as const) {
    const [r, code] = await withCode(destination, () => gw.request(RequestOtpDocument, { input: { channel, destination, purpose: "VERIFY_CONTACT" } }, { token }));
    expect((await gw.request(VerifyOtpDocument, { input: { challengeId: r.data!.requestOtp.challengeId, code } }, { token })).errors).toBeUndefined();
  }
  const app = URI.parse((await gw.request(EnrollTotpDocument, {}, { token })).data!.enrollTotp.otpauthUrl) as TOTP;
  const recovery = (await gw.request(ConfirmTotpDocument, { code: app.generate({ timestamp: now }) }, { token })).data!.confirmTotp.codes;
  nextStep();
  return { email, phone, app, recovery };
}

const MFA_REQUESTS = async (email: string) =>
  (await gw.db.db.prisma.authEvent.findMany({ where: { type: "otp.requested", user: { email } } })).filter((e) => (e.detail as { purpose: string }).purpose === "MFA");

describe("the second factor must differ from the first", () => {
  it("email code first: MFA_REQUIRED without EMAIL_OTP, an EMAIL MFA code is refused unsent; SMS finishes", async () => {
    const u = await fullAccount();
    const first = await signInByCode("EMAIL", u.email);
    expect(first).toMatchObject({ status: "MFA_REQUIRED", mfaMethods: ["TOTP", "RECOVERY_CODE", "SMS_OTP"] });

    const again = await requestMfa("EMAIL", first.mfaToken!);
    expect(errorCode(again)).toBe("BAD_USER_INPUT");
    expect(again.errors![0].extensions!.field).toBe("channel");
    expect(again.errors![0].message).toMatch(/must differ from the first/);
    expect(await MFA_REQUESTS(u.email)).toHaveLength(0);

    const v = await mfaCode("SMS", first.mfaToken!, u.phone);
    expect(claims(v.data!.verifyOtp.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["otp", "sms", "mfa"] });
  });

  it("SMS code first: no SMS_OTP, SMS and voice MFA codes are refused (the same phone); email finishes", async () => {
    const u = await fullAccount();
    const first = await signInByCode("SMS", u.phone);
    expect(first).toMatchObject({ status: "MFA_REQUIRED", mfaMethods: ["TOTP", "RECOVERY_CODE", "EMAIL_OTP"] });
    for (const channel of ["SMS", "VOICE"] as const) {
      const r = await requestMfa(channel, first.mfaToken!);
      expect(errorCode(r)).toBe("BAD_USER_INPUT");
      expect(r.errors![0].extensions!.field).toBe("channel");
    }
    const v = await mfaCode("EMAIL", first.mfaToken!, u.email);
    expect(claims(v.data!.verifyOtp.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["sms", "otp", "mfa"] });
  });

  it("magic link first: no EMAIL_OTP (the link proved the mailbox), an EMAIL MFA code is refused", async () => {
    const u = await fullAccount();
    const before = mailsTo(u.email).length;
    await gw.request(RequestMagicLinkDocument, { input: { email: u.email } });
    const mail = await waitFor(() => mailsTo(u.email).length > before && mailsTo(u.email)[before], "the link");
    const token = mail.text.match(/token=([\w-]+)/)![1];
    const first = (await gw.request(ConsumeMagicLinkDocument, { input: { token } })).data!.consumeMagicLink;
    expect(first).toMatchObject({ status: "MFA_REQUIRED", mfaMethods: ["TOTP", "RECOVERY_CODE", "SMS_OTP"] });
    expect(errorCode(await requestMfa("EMAIL", first.mfaToken!))).toBe("BAD_USER_INPUT");
  });

  it("password first: EMAIL_OTP and SMS_OTP are offered, and each finishes the sign-in", async () => {
    const u = await fullAccount();
    const login = async () => (await gw.request(LoginDocument, { input: { email: u.email, password: "correct horse battery" } })).data!.login;
    const first = await login();
    expect(first.mfaMethods).toEqual(["TOTP", "RECOVERY_CODE", "EMAIL_OTP", "SMS_OTP"]);
    const byEmail = await mfaCode("EMAIL", first.mfaToken!, u.email);
    expect(claims(byEmail.data!.verifyOtp.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["pwd", "otp", "mfa"] });
    const bySms = await mfaCode("SMS", (await login()).mfaToken!, u.phone);
    expect(claims(bySms.data!.verifyOtp.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["pwd", "sms", "mfa"] });
  });

  it("TOTP and recovery codes still finish a sign-in that began with an email code", async () => {
    const u = await fullAccount();
    const totp = await gw.request(VerifyTotpDocument, { input: { mfaToken: (await signInByCode("EMAIL", u.email)).mfaToken, code: u.app.generate({ timestamp: now }) } });
    expect(claims(totp.data!.verifyTotp.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["otp", "mfa"] });
    nextStep();
    const recovery = await gw.request(UseRecoveryCodeDocument, { input: { mfaToken: (await signInByCode("EMAIL", u.email)).mfaToken!, code: u.recovery[0] } });
    expect(recovery.data!.useRecoveryCode.status).toBe("AUTHENTICATED");
  });
});

describe("a second factor turned off by its setting", () => {
  it("SMS_ENABLED=false: SMS_OTP is not offered, though the account has a proven phone", async () => {
    const u = await fullAccount();
    const off = await startTestGateway({ clock, peerOf: gw, env: { SMS_ENABLED: "false" } });
    try {
      const login = (await off.request(LoginDocument, { input: { email: u.email, password: "correct horse battery" } })).data!.login;
      expect(login).toMatchObject({ status: "MFA_REQUIRED", mfaMethods: ["TOTP", "RECOVERY_CODE", "EMAIL_OTP"] });
    } finally {
      await off.close();
    }
  });
});

describe("an mfaToken finishes one sign-in", () => {
  it("after a TOTP code, the same token is refused for TOTP, an email code and a recovery code", async () => {
    const u = await fullAccount();
    const { mfaToken } = (await gw.request(LoginDocument, { input: { email: u.email, password: "correct horse battery" } })).data!.login;
    expect((await gw.request(VerifyTotpDocument, { input: { mfaToken, code: u.app.generate({ timestamp: now }) } })).data!.verifyTotp.status).toBe("AUTHENTICATED");
    nextStep();
    expect(errorCode(await gw.request(VerifyTotpDocument, { input: { mfaToken, code: u.app.generate({ timestamp: now }) } }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await requestMfa("EMAIL", mfaToken!))).toBe("UNAUTHENTICATED");
    expect(errorCode(await gw.request(UseRecoveryCodeDocument, { input: { mfaToken: mfaToken!, code: u.recovery[1] } }))).toBe("UNAUTHENTICATED");
    nextStep();
  });

  it("two codes asked with one token: the first to be verified signs in, the other is refused", async () => {
    const u = await fullAccount();
    const { mfaToken } = (await gw.request(LoginDocument, { input: { email: u.email, password: "correct horse battery" } })).data!.login;
    const [byEmail, emailCode] = await withCode(u.email, () => requestMfa("EMAIL", mfaToken!));
    const [bySms, smsCode] = await withCode(u.phone, () => requestMfa("SMS", mfaToken!));
    expect((await verify(byEmail.data!.requestOtp.challengeId, emailCode)).data!.verifyOtp.status).toBe("AUTHENTICATED");
    expect(errorCode(await verify(bySms.data!.requestOtp.challengeId, smsCode))).toBe("UNAUTHENTICATED");
  });

  // Last in the file: it moves the clock up to real time (the token's expiry is real time).
  it("a code asked for late in the token's life cannot finish the sign-in after the token expired", async () => {
    const u = await fullAccount();
    now = Math.max(now, Math.ceil(Date.now() / 30_000) * 30_000);
    const { mfaToken } = (await gw.request(LoginDocument, { input: { email: u.email, password: "correct horse battery" } })).data!.login;
    const ttl = claims(mfaToken!).exp * 1000 - Date.now();
    now += ttl - 60_000; // a minute left: the code lives longer than that
    const [r, code] = await withCode(u.email, () => requestMfa("EMAIL", mfaToken!));
    now += 2 * 60_000;
    expect(errorCode(await verify(r.data!.requestOtp.challengeId, code))).toBe("UNAUTHENTICATED");
  });
});
