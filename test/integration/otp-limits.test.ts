import { LoginDocument, MeDocument, RequestOtpDocument, SignUpDocument, VerifyOtpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({
    env: {
      TRUST_PROXY: "1", // each test speaks from its own X-Forwarded-For address, through one trusted hop
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      OTP_MAX_PER_DESTINATION_PER_HOUR: "2",
      OTP_MAX_REQUESTS_PER_IP_PER_HOUR: "4",
      SMS_DAILY_BUDGET_PER_COUNTRY: "2",
    },
  });
});
afterAll(() => gw.close());

const ask = (ip: string, channel: "EMAIL" | "SMS" | "VOICE", destination: string) =>
  gw.request(RequestOtpDocument, { input: { channel, destination, purpose: "SIGN_IN" } }, { headers: { "x-forwarded-for": ip } });

const codeSentTo = (to: string, count = 1) => gw.codeSentTo(to, count);

describe("request limits", () => {
  it("codes per destination per hour", async () => {
    expect(errorCode(await ask("10.0.0.1", "EMAIL", "dest@example.com"))).toBeUndefined();
    expect(errorCode(await ask("10.0.0.2", "EMAIL", "dest@example.com"))).toBeUndefined();
    const third = await ask("10.0.0.3", "EMAIL", "dest@example.com");
    expect(errorCode(third)).toBe("RATE_LIMITED");
    expect(third.errors![0].extensions!.retryAfter as number).toBeGreaterThan(3500);
  });

  it("requests per IP per hour, whatever the destination", async () => {
    for (let i = 0; i < 4; i++) expect(errorCode(await ask("10.0.1.1", "EMAIL", `ip${i}@example.com`))).toBeUndefined();
    expect(errorCode(await ask("10.0.1.1", "EMAIL", "ip9@example.com"))).toBe("RATE_LIMITED");
    expect(errorCode(await ask("10.0.1.2", "EMAIL", "ip9@example.com"))).toBeUndefined();
  });

  it("a daily SMS budget per country, shared by voice, tripping is audited", async () => {
    expect(errorCode(await ask("10.0.2.1", "SMS", "+33612345678"))).toBeUndefined();
    expect(errorCode(await ask("10.0.2.2", "VOICE", "+33612345679"))).toBeUndefined();
    const over = await ask("10.0.2.3", "SMS", "+33612345680");
    expect(errorCode(over)).toBe("RATE_LIMITED");
    expect(errorCode(await ask("10.0.2.4", "SMS", "+14155550199"))).toBeUndefined();
    const trips = await gw.db.db.prisma.authEvent.findMany({ where: { type: "sms.guard.tripped" } });
    expect(trips.map((t) => t.detail)).toEqual([{ rule: "budget", country: "FR" }]);
  });
});

describe("verification", () => {
  it("aliased guesses in one operation run one at a time and stop at the first wrong code", async () => {
    const { challengeId } = (await ask("10.0.3.1", "EMAIL", "alias@example.com")).data!.requestOtp;
    const fields = [0, 1, 2].map((i) => `v${i}: verifyOtp(input: { challengeId: "${challengeId}", code: "00000${i}" }) { status }`);
    const r = await gw.request(`mutation { ${fields.join("\n")} }`);
    expect(r.errors!.map((e) => e.path)).toEqual([["v0"]]);
    const next = await gw.request(VerifyOtpDocument, { input: { challengeId, code: "000009" } });
    expect(next.errors![0].extensions!.attemptsRemaining).toBe(3);
  });
});

describe("MFA by email code", () => {
  it("finishes a password login for an account with a second factor (sign-in codes spent by others or not): aal2, amr pwd + otp + mfa", async () => {
    const s = await gw.request(SignUpDocument, { input: { email: "mfa@example.com", password: "correct horse battery" } });
    // TOTP enrolment is another issue; turn it on directly, with a verified email.
    await gw.db.db.prisma.user.update({ where: { id: s.data!.signUp.user!.id }, data: { totpEnabled: true, emailVerified: true } });
    const login = (await gw.request(LoginDocument, { input: { email: "mfa@example.com", password: "correct horse battery" } })).data!.login;
    expect(login).toMatchObject({ status: "MFA_REQUIRED", tokens: null, user: null, mfaMethods: ["TOTP", "RECOVERY_CODE", "EMAIL_OTP"] });
    expect((await gw.request(MeDocument, {}, { token: login.mfaToken! })).data!.me).toBeNull();

    // Anyone may spend the address's sign-in codes for the hour, and another account its own
    // contact proofs to it: the owner's MFA code still goes out.
    for (const ip of ["10.0.4.2", "10.0.4.3"]) expect(errorCode(await ask(ip, "EMAIL", "mfa@example.com"))).toBeUndefined();
    expect(errorCode(await ask("10.0.4.4", "EMAIL", "mfa@example.com"))).toBe("RATE_LIMITED");
    const other = (await gw.request(SignUpDocument, { input: { email: "mfa-other@example.com", password: "correct horse battery" } }, { headers: { "x-forwarded-for": "10.0.4.5" } })).data!.signUp.tokens!.accessToken;
    const prove = () => gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: "mfa@example.com", purpose: "VERIFY_CONTACT" } }, { token: other, headers: { "x-forwarded-for": "10.0.4.5" } });
    for (let i = 0; i < 2; i++) expect(errorCode(await prove())).toBeUndefined();
    expect(errorCode(await prove())).toBe("RATE_LIMITED");
    const challenge = await gw.request(
      RequestOtpDocument,
      { input: { channel: "EMAIL", purpose: "MFA", mfaToken: login.mfaToken } },
      { headers: { "x-forwarded-for": "10.0.4.1" } },
    );
    expect(challenge.data!.requestOtp.destinationHint).toBe("m***@example.com");
    const v = await gw.request(VerifyOtpDocument, { input: { challengeId: challenge.data!.requestOtp.challengeId, code: await codeSentTo("mfa@example.com", 5) } });
    expect(v.data!.verifyOtp.status).toBe("AUTHENTICATED");
    const claims = JSON.parse(Buffer.from(v.data!.verifyOtp.tokens!.accessToken.split(".")[1], "base64url").toString());
    expect(claims).toMatchObject({ aal: "aal2", amr: ["pwd", "otp", "mfa"] });
  });
});

describe("the SMS guard with OTP_SIGNUP=false", () => {
  let closed: TestGateway;
  beforeAll(async () => {
    closed = await startTestGateway({ env: { OTP_SIGNUP: "false", OTP_RESEND_COOLDOWN_SECONDS: "0", SMS_DAILY_BUDGET_PER_COUNTRY: "1" } });
  });
  afterAll(() => closed.close());

  it("refuses a number without an account as it refuses one with: its answer tells nobody which numbers have one", async () => {
    const known = "+33612345601";
    await closed.db.db.prisma.user.create({ data: { phone: known, phoneVerified: true } });
    const askClosed = (destination: string) => closed.request(RequestOtpDocument, { input: { channel: "SMS", destination, purpose: "SIGN_IN" } });
    const first = await askClosed(known);
    expect(first.errors).toBeUndefined(); // the country's one code today
    const [withAccount, without] = [await askClosed(known), await askClosed("+33612345602")];
    expect(errorCode(withAccount)).toBe("RATE_LIMITED");
    expect(errorCode(without)).toBe("RATE_LIMITED");
  });
});
