import { RequestOtpDocument, VerifyOtpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server";
import { providerSettings } from "../helpers/providers";
import { startTwilioEndpoint, type TwilioEndpoint } from "../helpers/twilio-endpoint";
import { waitFor } from "../helpers/wait";
import { codeIn } from "../helpers/codes";

/** The whole path a person sees: a real SMTP server and a Twilio-compatible endpoint. */
let smtp: TestSmtpServer;
let twilio: TwilioEndpoint;
let gw: TestGateway;
beforeAll(async () => {
  smtp = await startSmtpServer();
  twilio = await startTwilioEndpoint();
  gw = await startTestGateway({
    env: {
      ...providerSettings(smtp, twilio),
      APP_NAME: "Acme",
    },
  });
});
afterAll(async () => {
  await gw.close();
  await smtp.close();
  await twilio.close();
});

const ask = (channel: "EMAIL" | "SMS" | "VOICE", destination: string) =>
  gw.request(RequestOtpDocument, { input: { channel, destination, purpose: "SIGN_IN" } });
const verify = (challengeId: string, code: string) => gw.request(VerifyOtpDocument, { input: { challengeId, code } });

describe("codes through real providers", () => {
  it("emails the code (text and HTML, no links or images) and it signs in", async () => {
    const { challengeId } = (await ask("EMAIL", "mail@example.com")).data!.requestOtp;
    const [mail] = await smtp.waitForMessages(1);
    expect(mail).toMatchObject({ from: expect.stringContaining("codes@example.test"), envelopeTo: ["mail@example.com"] });
    expect(mail.subject).toMatch(/^\d{6} is your Acme code$/);
    const code = codeIn(mail.text);
    expect(mail.html).toContain(code);
    expect(mail.html).not.toMatch(/<img|<a\s|https?:\/\//i);
    expect((await verify(challengeId, code)).data!.verifyOtp.status).toBe("AUTHENTICATED");
  });

  it("texts the code through the Twilio Messages API and it signs in", async () => {
    const before = twilio.requests.length;
    const { challengeId } = (await ask("SMS", "+14155550123")).data!.requestOtp;
    const [req] = (await twilio.waitForRequests(before + 1)).slice(before);
    expect(req).toMatchObject({ kind: "message", form: { To: "+14155550123", From: "+15005550006" }, auth: { user: twilio.accountSid, pass: twilio.authToken } });
    const v = await verify(challengeId, codeIn(req.form.Body));
    expect(v.data!.verifyOtp.user).toMatchObject({ phone: "+14155550123", phoneVerified: true });
  });

  it("calls and reads the code digit by digit (VOICE), amr tel", async () => {
    const before = twilio.requests.length;
    const { challengeId } = (await ask("VOICE", "+14155550124")).data!.requestOtp;
    const [req] = (await twilio.waitForRequests(before + 1)).slice(before);
    expect(req.kind).toBe("call");
    expect(req.form.Twiml).toMatch(/<Say>Your Acme code is (\d, ){5}\d\.<\/Say>/);
    const code = req.form.Twiml.match(/code is ((?:\d, ){5}\d)/)![1].replace(/, /g, "");
    const v = await verify(challengeId, code);
    const payload = JSON.parse(Buffer.from(v.data!.verifyOtp.tokens!.accessToken.split(".")[1], "base64url").toString());
    expect(payload.amr).toEqual(["tel"]);
  });

  it("retries a provider outage without the caller waiting for it", async () => {
    const before = twilio.requests.length;
    twilio.script({ status: 503 }, { status: 429, headers: { "Retry-After": "0" } });
    const r = await ask("SMS", "+14155550125");
    expect(r.data!.requestOtp.challengeId).toEqual(expect.any(String));
    const requests = (await twilio.waitForRequests(before + 3)).slice(before);
    // A request is recorded on arrival; its status once the answer is written.
    await waitFor(() => requests.every((q) => q.status !== undefined), "the endpoint to answer all three");
    expect(requests.map((q) => q.status)).toEqual([503, 429, 201]);
  });

  it("SMS_ENABLED=false turns phone channels off cleanly", async () => {
    const off = await startTestGateway({ env: { SMS_ENABLED: "false" } });
    try {
      for (const channel of ["SMS", "VOICE"] as const) {
        const r = await off.request(RequestOtpDocument, { input: { channel, destination: "+14155550126", purpose: "SIGN_IN" } });
        expect(errorCode(r)).toBe("NOT_AVAILABLE");
      }
    } finally {
      await off.close();
    }
  });
});
