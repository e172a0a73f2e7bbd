import { LoginDocument, MeDocument, RequestOtpDocument, SignUpDocument, VerifyOtpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { otpChallengeKey, otpChallengeTagKey } from "../../src/methods/otp/otp-challenge.store";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { SMS_ALLOWED_COUNTRIES: "GB,US" } });
});
afterAll(() => gw.close());

const codeSentTo = (to: string) => gw.codeSentTo(to);

const requestEmail = (destination: string, headers?: Record<string, string>) =>
  gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination, purpose: "SIGN_IN" } }, { headers });
const verify = (challengeId: string, code: string, token?: string) => gw.request(VerifyOtpDocument, { input: { challengeId, code } }, { token });
const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("requestOtp + verifyOtp: passwordless email sign-in", () => {
  it("creates the account on first use, email verified, amr otp", async () => {
    const r = await requestEmail("New.Person@Example.com");
    const challenge = r.data!.requestOtp;
    expect(challenge).toMatchObject({ channel: "EMAIL", destinationHint: "n***@example.com", codeLength: 6 });
    expect(Date.parse(challenge.resendAvailableAt)).toBeGreaterThan(Date.now());
    const v = await verify(challenge.challengeId, await codeSentTo("new.person@example.com"));
    expect(v.data!.verifyOtp).toMatchObject({ status: "AUTHENTICATED", isNewUser: true, user: { email: "new.person@example.com", emailVerified: true } });
    const payload = JSON.parse(Buffer.from(v.data!.verifyOtp.tokens!.accessToken.split(".")[1], "base64url").toString());
    expect(payload.amr).toEqual(["otp"]);
  });

  it("answers known and unknown addresses with the same shape", async () => {
    await gw.request(SignUpDocument, { input: { email: "known@example.com", password: "correct horse battery" } });
    const known = (await requestEmail("known@example.com")).data!.requestOtp;
    const unknown = (await requestEmail("unknown@example.com")).data!.requestOtp;
    expect(Object.keys(known).sort()).toEqual(Object.keys(unknown).sort());
    expect(known.codeLength).toBe(unknown.codeLength);
  });

  it("stores only an HMAC of the code", async () => {
    const { challengeId } = (await requestEmail("hmac@example.com")).data!.requestOtp;
    const code = await codeSentTo("hmac@example.com");
    const raw = await gw.store.run(
      { name: "dump", lua: "return redis.call('HGETALL', KEYS[1])", local: (r, k) => Object.entries(r.hgetall(k[0])).flat(), parse: (x) => x as string[] },
      [otpChallengeKey((await gw.store.get(otpChallengeTagKey(challengeId)))!, challengeId)],
      [],
    );
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.join(" ")).not.toContain(code);
  });

  it("is single use", async () => {
    const { challengeId } = (await requestEmail("once@example.com")).data!.requestOtp;
    const code = await codeSentTo("once@example.com");
    expect((await verify(challengeId, code)).data!.verifyOtp.status).toBe("AUTHENTICATED");
    expect(errorCode(await verify(challengeId, code))).toBe("INVALID_CODE");
  });

  it("counts wrong codes down, then the challenge is dead even for the right code", async () => {
    const { challengeId } = (await requestEmail("guess@example.com")).data!.requestOtp;
    const code = await codeSentTo("guess@example.com");
    const remaining: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await verify(challengeId, wrongCode(code));
      expect(errorCode(r)).toBe("INVALID_CODE");
      remaining.push(r.errors![0].extensions!.attemptsRemaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    expect(errorCode(await verify(challengeId, code))).toBe("TOO_MANY_ATTEMPTS");
  });

  it("50 concurrent verifications with the right code: exactly one signs in", async () => {
    const { challengeId } = (await requestEmail("race@example.com")).data!.requestOtp;
    const code = await codeSentTo("race@example.com");
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(challengeId, code)));
    expect(results.filter((r) => r.data?.verifyOtp?.status === "AUTHENTICATED")).toHaveLength(1);
    expect(results.filter((r) => errorCode(r) === "INVALID_CODE")).toHaveLength(49);
  });

  it("a second request inside the resend cooldown is RATE_LIMITED; the first code still works", async () => {
    const first = (await requestEmail("twice@example.com")).data!.requestOtp;
    const firstCode = await codeSentTo("twice@example.com");
    const again = await requestEmail("twice@example.com");
    expect(errorCode(again)).toBe("RATE_LIMITED");
    expect(again.errors![0].extensions!.retryAfter).toEqual(expect.any(Number));
    expect((await verify(first.challengeId, firstCode)).data!.verifyOtp.status).toBe("AUTHENTICATED");
  });

  it("refuses a malformed address naming the field, and sends nothing", async () => {
    const before = gw.outbox!.list().length;
    const r = await requestEmail("not an email");
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].extensions!.field).toBe("destination");
    await new Promise((res) => setTimeout(res, 50));
    expect(gw.outbox!.list().length).toBe(before);
  });

  it("proving an address claims an unproven account: a password set by someone else stops working", async () => {
    await gw.request(SignUpDocument, { input: { email: "victim@example.com", password: "attacker chose this" } });
    const { challengeId } = (await requestEmail("victim@example.com")).data!.requestOtp;
    const v = await verify(challengeId, await codeSentTo("victim@example.com"));
    expect(v.data!.verifyOtp).toMatchObject({ status: "AUTHENTICATED", isNewUser: false, user: { emailVerified: true } });
    const login = await gw.request(LoginDocument, { input: { email: "victim@example.com", password: "attacker chose this" } });
    expect(errorCode(login)).toBe("UNAUTHENTICATED");
  });
});

describe("SMS codes", () => {
  it("refuses numbers from countries outside SMS_ALLOWED_COUNTRIES", async () => {
    const r = await gw.request(RequestOtpDocument, { input: { channel: "SMS", destination: "+33612345678", purpose: "SIGN_IN" } });
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].extensions!.field).toBe("destination");
  });

  it("signs in by phone with amr sms", async () => {
    const r = await gw.request(RequestOtpDocument, { input: { channel: "SMS", destination: "+44 7400 123456", purpose: "SIGN_IN" } });
    expect(r.data!.requestOtp.destinationHint).toBe("+44*******456");
    const v = await verify(r.data!.requestOtp.challengeId, await codeSentTo("+447400123456"));
    expect(v.data!.verifyOtp.user).toMatchObject({ phone: "+447400123456", phoneVerified: true, email: null });
    const payload = JSON.parse(Buffer.from(v.data!.verifyOtp.tokens!.accessToken.split(".")[1], "base64url").toString());
    expect(payload.amr).toEqual(["sms"]);
  });
});

describe("VERIFY_CONTACT", () => {
  it("attaches and verifies a phone for the signed-in user", async () => {
    const s = await gw.request(SignUpDocument, { input: { email: "contact@example.com", password: "correct horse battery" } });
    const token = s.data!.signUp.tokens!.accessToken;
    const r = await gw.request(RequestOtpDocument, { input: { channel: "SMS", destination: "+12025550143", purpose: "VERIFY_CONTACT" } }, { token });
    const v = await verify(r.data!.requestOtp.challengeId, await codeSentTo("+12025550143"), token);
    expect(v.data!.verifyOtp).toMatchObject({ status: "AUTHENTICATED", tokens: null, user: { phone: "+12025550143", phoneVerified: true } });
    expect((await gw.request(MeDocument, {}, { token })).data!.me).toMatchObject({ phone: "+12025550143", phoneVerified: true });
  });

  it("keeps each account's resend cooldown its own: another account typing the same phone does not hold the owner's", async () => {
    const tokenOf = async (email: string) => (await gw.request(SignUpDocument, { input: { email, password: "correct horse battery" } })).data!.signUp.tokens!.accessToken;
    const [owner, other] = [await tokenOf("cooldown-owner@example.com"), await tokenOf("cooldown-other@example.com")];
    const prove = (token: string) => gw.request(RequestOtpDocument, { input: { channel: "SMS", destination: "+12025550177", purpose: "VERIFY_CONTACT" } }, { token });
    expect((await prove(other)).errors).toBeUndefined();
    expect(errorCode(await prove(other))).toBe("RATE_LIMITED"); // its own cooldown
    expect((await prove(owner)).errors).toBeUndefined();
  });

  it("needs a signed-in caller", async () => {
    const r = await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: "x@example.com", purpose: "VERIFY_CONTACT" } });
    expect(errorCode(r)).toBe("UNAUTHENTICATED");
  });
});

describe("MFA purpose", () => {
  it("needs the mfaToken from login", async () => {
    const r = await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", purpose: "MFA" } });
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].extensions!.field).toBe("mfaToken");
    const bad = await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", purpose: "MFA", mfaToken: "nope" } });
    expect(errorCode(bad)).toBe("UNAUTHENTICATED");
  });
});

describe("failed verifications per address, across challenges", () => {
  let locked: TestGateway;
  beforeAll(async () => {
    locked = await startTestGateway({ env: { OTP_MAX_FAILED_VERIFICATIONS: "3", OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_SIGNUP: "false" } });
  });
  afterAll(() => locked.close());

  it("lock the address for a while: even a fresh challenge with the right code is RATE_LIMITED", async () => {
    await locked.request(SignUpDocument, { input: { email: "locked@example.com", password: "correct horse battery" } });
    const ask = async () => (await locked.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: "locked@example.com", purpose: "SIGN_IN" } })).data!.requestOtp;
    const first = await ask();
    for (let i = 0; i < 3; i++) expect(errorCode(await locked.request(VerifyOtpDocument, { input: { challengeId: first.challengeId, code: "000000" } }))).toMatch(/INVALID_CODE|RATE_LIMITED/);
    const second = await ask();
    // Wait for the second message (the list is newest first), so this is the right code.
    const code = await locked.codeSentTo("locked@example.com", 2);
    const r = await locked.request(VerifyOtpDocument, { input: { challengeId: second.challengeId, code } });
    expect(errorCode(r)).toBe("RATE_LIMITED");
    expect(r.errors![0].extensions!.retryAfter as number).toBeGreaterThan(0);
  });

  it("with OTP_SIGNUP=false an unknown address gets the same answer and no message", async () => {
    const r = await locked.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: "stranger@example.com", purpose: "SIGN_IN" } });
    expect(r.data!.requestOtp).toMatchObject({ channel: "EMAIL", destinationHint: "s***@example.com", codeLength: 6 });
    await new Promise((res) => setTimeout(res, 100));
    expect(locked.outbox!.list().some((m) => m.to === "stranger@example.com")).toBe(false);
  });
});
