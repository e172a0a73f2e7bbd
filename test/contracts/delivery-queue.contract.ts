import type { AuditLog, DeliveryQueue, OutgoingMessage } from "../../src/core/ports";
import { ChannelDisabledError, DeliveryError, type Channel, type ChannelSenders, type RetryPolicy } from "../../src/infra/delivery";
import type { Logger } from "../../src/infra/log/logger";
import type { BacklogSource } from "../../src/infra/metrics/prometheus.metrics";
import { SmtpSender } from "../../src/infra/mail/smtp.sender";
import { createTwilioSenders } from "../../src/infra/sms/twilio.sender";
import { MemoryAuditLog } from "../helpers/audit";
import { captureLogger } from "../helpers/log";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server";
import { startTwilioEndpoint, type TwilioEndpoint } from "../helpers/twilio-endpoint";
import { sleep, waitFor } from "../helpers/wait";

export type MakeQueue = (options: { senders: ChannelSenders; audit: AuditLog; log: Logger; retry: Partial<RetryPolicy> }) => DeliveryQueue & BacklogSource;

export const CODE = "483920";
export const MAIL_FROM = "codes@gateway.test";
export const TWILIO_FROM = "+15005550006";

export const emailMessage: OutgoingMessage = {
  channel: "email",
  to: "ada@example.com",
  subject: "Your sign-in code",
  text: `Your sign-in code is ${CODE}. It expires in 5 minutes.`,
  html: `<p>Your sign-in code is <strong>${CODE}</strong>. It expires in 5 minutes.</p>`,
  purpose: "otp.sign_in",
  userId: "user-1",
};
export const smsMessage: OutgoingMessage = { channel: "sms", to: "+14155550100", text: `Your code is ${CODE}`, purpose: "otp.sign_in", userId: "user-1" };
export const voiceMessage: OutgoingMessage = { ...smsMessage, channel: "voice", purpose: "otp.mfa" };

/** Long enough for any retry of the fast policy below to have happened. */
const QUIET_MS = 300;

/**
 * What every DeliveryQueue must do, run against the BullMQ queue and the in-process one,
 * with the real senders talking to a real SMTP server and a Twilio-compatible endpoint.
 */
export function describeDeliveryQueueContract(name: string, makeQueue: MakeQueue): void {
  describe(`DeliveryQueue contract: ${name}`, () => {
    let smtp: TestSmtpServer;
    let twilio: TwilioEndpoint;
    const cleanups: Array<() => Promise<void>> = [];

    beforeEach(async () => {
      [smtp, twilio] = await Promise.all([startSmtpServer(), startTwilioEndpoint()]);
    });

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await Promise.all([smtp.close(), twilio.close()]);
    });

    function setup(options: { retry?: Partial<RetryPolicy>; twilioTimeoutMs?: number; channels?: Channel[]; senders?: ChannelSenders } = {}) {
      const audit = new MemoryAuditLog();
      const { log, lines } = captureLogger();
      const email = new SmtpSender({ url: smtp.url, from: MAIL_FROM });
      const { sms, voice } = createTwilioSenders({
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        from: TWILIO_FROM,
        apiBaseUrl: twilio.baseUrl,
        timeoutMs: options.twilioTimeoutMs,
      });
      const all: ChannelSenders = { email, sms, voice };
      const channels = options.channels ?? ["email", "sms", "voice"];
      const senders = options.senders ?? Object.fromEntries(channels.map((c) => [c, all[c]]));
      const queue = makeQueue({ senders, audit, log, retry: { baseDelayMs: 20, maxDelayMs: 2_000, maxAttempts: 4, ...options.retry } });
      cleanups.push(async () => {
        await queue.close();
        await email.close();
      });
      /** Neither the audit trail nor the logs may ever hold the code. */
      const assertCodeNeverRecorded = () => {
        expect(JSON.stringify(audit.events)).not.toContain(CODE);
        expect(lines.join("\n")).not.toContain(CODE);
      };
      return { queue, audit, lines, assertCodeNeverRecorded };
    }

    describe("delivery", () => {
      it("sends an email through SMTP with subject, From, text and HTML bodies", async () => {
        const { queue, audit } = setup();
        await queue.enqueue(emailMessage);
        const [mail] = await smtp.waitForMessages(1);
        expect(mail).toMatchObject({ envelopeFrom: MAIL_FROM, envelopeTo: ["ada@example.com"], from: MAIL_FROM, to: "ada@example.com", subject: "Your sign-in code", user: "mailer" });
        expect(mail.text.trim()).toBe(emailMessage.text);
        expect(mail.html).toContain(`<strong>${CODE}</strong>`);
        expect(audit.events).toEqual([]);
      });

      it("sends an SMS through the Twilio Messages API, form-encoded with Basic auth", async () => {
        const { queue, assertCodeNeverRecorded } = setup();
        await queue.enqueue(smsMessage);
        const [request] = await twilio.waitForRequests(1);
        expect(request.path).toBe(`/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`);
        expect(request.contentType).toBe("application/x-www-form-urlencoded");
        expect(request.auth).toEqual({ user: twilio.accountSid, pass: twilio.authToken });
        expect(request.form).toEqual({ To: "+14155550100", From: TWILIO_FROM, Body: `Your code is ${CODE}` });
        await waitFor(() => request.status, "the answer");
        expect(request.status).toBe(201);
        assertCodeNeverRecorded();
      });

      it("places a voice call whose TwiML reads the code digit by digit", async () => {
        const { queue } = setup();
        await queue.enqueue(voiceMessage);
        const [request] = await twilio.waitForRequests(1);
        expect(request.path).toBe(`/2010-04-01/Accounts/${twilio.accountSid}/Calls.json`);
        expect(request.auth).toEqual({ user: twilio.accountSid, pass: twilio.authToken });
        expect(request.form).toEqual({ To: "+14155550100", From: TWILIO_FROM, Twiml: expect.any(String) });
        expect(request.form.Twiml).toContain("<Say>Your code is 4, 8, 3, 9, 2, 0</Say>");
        expect(request.form.Twiml).not.toContain(CODE);
      });

      it("hands the sender the message as enqueued, whatever the caller changes afterwards", async () => {
        const received: OutgoingMessage[] = [];
        const { queue } = setup({ senders: { email: { name: "recording", send: async (m) => void received.push(m) } } });
        const message = { ...emailMessage };
        await queue.enqueue(message);
        message.text = "changed after enqueue";
        await waitFor(() => received.length === 1, "the send");
        expect(received).toEqual([emailMessage]);
      });

      it("resolves enqueue before the provider has answered", async () => {
        const { queue } = setup();
        const order: string[] = [];
        twilio.script({ delayMs: 1_000 });
        twilio.on("answered", () => order.push("provider answered"));
        await queue.enqueue(smsMessage);
        order.push("enqueue resolved");
        await waitFor(() => order.length === 2, "the provider's answer");
        expect(order).toEqual(["enqueue resolved", "provider answered"]);
      });

      it("refuses, at enqueue, a channel that has no sender", async () => {
        const { queue } = setup({ channels: ["email"] });
        await expect(queue.enqueue(smsMessage)).rejects.toBeInstanceOf(ChannelDisabledError);
        await expect(queue.enqueue(voiceMessage)).rejects.toThrow(/voice messages are turned off/);
        await sleep(QUIET_MS);
        expect(twilio.requests).toEqual([]);
      });

      it("lets a send in flight finish when closed", async () => {
        const { queue, audit } = setup();
        twilio.script({ delayMs: 300 });
        await queue.enqueue(smsMessage);
        await twilio.waitForRequests(1);
        await queue.close();
        expect(twilio.requests[0].status).toBe(201);
        expect(audit.events).toEqual([]);
      });
    });

    describe("retries", () => {
      it("retries a 503 until the provider accepts", async () => {
        const { queue, audit } = setup();
        twilio.script({ status: 503 }, { status: 503 });
        await queue.enqueue(smsMessage);
        await twilio.waitForRequests(3);
        await waitFor(() => twilio.requests[2].status, "the third answer");
        await sleep(QUIET_MS);
        expect(twilio.requests.map((r) => r.status)).toEqual([503, 503, 201]);
        expect(audit.events).toEqual([]);
      });

      it("waits at least Retry-After after a 429", async () => {
        const { queue, audit } = setup();
        const arrivals: number[] = [];
        twilio.on("request", () => arrivals.push(performance.now()));
        twilio.script({ status: 429, code: 20429, message: "Too Many Requests", headers: { "Retry-After": "1" } });
        await queue.enqueue(smsMessage);
        await twilio.waitForRequests(2);
        await waitFor(() => twilio.requests[1].status, "the second answer");
        expect(twilio.requests.map((r) => r.status)).toEqual([429, 201]);
        // The policy alone would have retried within 20 ms.
        expect(arrivals[1] - arrivals[0]).toBeGreaterThanOrEqual(950);
        expect(audit.events).toEqual([]);
      });

      it("retries a timed-out request", async () => {
        const { queue, audit, lines } = setup({ twilioTimeoutMs: 200 });
        twilio.script({ delayMs: 1_000 });
        await queue.enqueue(smsMessage);
        await twilio.waitForRequests(2);
        await waitFor(() => twilio.requests[1].status, "the second answer");
        expect(twilio.requests[1].status).toBe(201);
        expect(lines.some((l) => l.includes("will retry") && l.includes("timeout (ECONNABORTED)"))).toBe(true);
        expect(audit.events).toEqual([]);
      });

      it("does not retry a 400 and audits the failure without the message", async () => {
        const { queue, audit, assertCodeNeverRecorded } = setup();
        twilio.script({ status: 400, code: 21211, message: "The 'To' number +14155550100 is not a valid phone number." });
        await queue.enqueue(smsMessage);
        await waitFor(() => audit.events.length > 0, "the audit record");
        await sleep(QUIET_MS);
        expect(twilio.requests).toHaveLength(1);
        expect(audit.events).toEqual([
          {
            type: "delivery.failed",
            ok: false,
            userId: "user-1",
            detail: { channel: "sms", purpose: "otp.sign_in", attempts: 1, status: 400, reason: "Twilio error 21211 (HTTP 400)" },
          },
        ]);
        assertCodeNeverRecorded();
      });

      it("audits the failure once the attempts run out", async () => {
        const { queue, audit, assertCodeNeverRecorded } = setup({ retry: { maxAttempts: 3 } });
        twilio.script({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
        await queue.enqueue(voiceMessage);
        await waitFor(() => audit.events.length > 0, "the audit record");
        await sleep(QUIET_MS);
        expect(twilio.requests.map((r) => r.status)).toEqual([503, 503, 503]);
        expect(audit.events).toEqual([
          {
            type: "delivery.failed",
            ok: false,
            userId: "user-1",
            detail: { channel: "voice", purpose: "otp.mfa", attempts: 3, status: 503, reason: "Twilio error 20503 (HTTP 503); gave up after 3 attempts" },
          },
        ]);
        assertCodeNeverRecorded();
      });

      it("retries an SMTP 4xx refusal", async () => {
        const { queue, audit } = setup();
        smtp.rejectNext(2, 451);
        await queue.enqueue(emailMessage);
        await smtp.waitForMessages(1);
        expect(smtp.recipientAttempts).toBe(3);
        expect(audit.events).toEqual([]);
      });

      it("retries a code through an SMTP outage for as long as the code lives, past maxAttempts", async () => {
        const { queue, audit } = setup({ retry: { maxAttempts: 3, maxDelayMs: 100 } });
        smtp.refuseAll(451);
        const codes = ["a", "b", "c", "d", "e"].map((who) => ({ ...emailMessage, to: `${who}@example.com`, expiresAt: Date.now() + 60_000 }));
        for (const message of codes) await queue.enqueue(message);
        // More tries than maxAttempts allows each message: the outage outlasted the count.
        await waitFor(() => smtp.recipientAttempts >= codes.length * 4, "the outage to outlast maxAttempts");
        expect(audit.events).toEqual([]);
        smtp.recover();
        const mails = await smtp.waitForMessages(codes.length);
        expect(mails.map((m) => m.to).sort()).toEqual(codes.map((m) => m.to));
        expect(audit.events).toEqual([]);
      });

      it("gives up, audited, on a code whose lifetime ends during the outage", async () => {
        const { queue, audit, assertCodeNeverRecorded } = setup({ retry: { maxAttempts: 3, maxDelayMs: 100 } });
        smtp.refuseAll(451);
        await queue.enqueue({ ...emailMessage, expiresAt: Date.now() + 400 });
        await waitFor(() => audit.events.length > 0, "the audit record");
        smtp.recover();
        await sleep(QUIET_MS);
        expect(smtp.messages).toEqual([]);
        // Given up after a failed try, or (a late timer) when the next try found it expired.
        expect(audit.events).toEqual([
          {
            type: "delivery.failed",
            ok: false,
            userId: "user-1",
            detail: expect.objectContaining({ channel: "email", purpose: "otp.sign_in", attempts: smtp.recipientAttempts }),
          },
        ]);
        expect(audit.events[0].detail!.reason).toMatch(
          /^SMTP 451 at RCPT TO; (gave up after \d+ attempts: the message expires before another could help|expired before attempt \d+)$/,
        );
        assertCodeNeverRecorded();
      });

      it("does not send a code that expired before its turn came", async () => {
        const { queue, audit } = setup();
        await queue.enqueue({ ...emailMessage, expiresAt: Date.now() - 1 });
        await waitFor(() => audit.events.length > 0, "the audit record");
        await sleep(QUIET_MS);
        expect(smtp.recipientAttempts).toBe(0);
        expect(audit.events).toEqual([
          { type: "delivery.failed", ok: false, userId: "user-1", detail: { channel: "email", purpose: "otp.sign_in", attempts: 0, status: null, reason: "not sent: the message expired while it waited" } },
        ]);
      });

      it("does not retry an SMTP 5xx refusal", async () => {
        const { queue, audit, assertCodeNeverRecorded } = setup();
        smtp.rejectNext(1, 550);
        await queue.enqueue(emailMessage);
        await waitFor(() => audit.events.length > 0, "the audit record");
        await sleep(QUIET_MS);
        expect(smtp.recipientAttempts).toBe(1);
        expect(smtp.messages).toEqual([]);
        expect(audit.events).toEqual([
          {
            type: "delivery.failed",
            ok: false,
            userId: "user-1",
            detail: { channel: "email", purpose: "otp.sign_in", attempts: 1, status: 550, reason: "SMTP 550 at RCPT TO" },
          },
        ]);
        assertCodeNeverRecorded();
      });
    });

    // What the /metrics gauges read: auth_gateway_delivery_queue_jobs and _oldest_job_age_seconds.
    describe("backlog", () => {
      it("counts a message being sent as active, with when it was queued, and nothing once it is sent", async () => {
        let release = () => {};
        const held = new Promise<void>((resolve) => (release = resolve));
        const { queue } = setup({ senders: { email: { name: "held", send: () => held } } });
        const queuedFrom = Date.now();
        await queue.enqueue(emailMessage);
        try {
          const sending = await waitFor(async () => {
            const b = await queue.backlog();
            return b.active === 1 && b;
          }, "the message to be in a worker's hands");
          expect(sending).toMatchObject({ waiting: 0, delayed: 0, active: 1 });
          expect(sending.oldestQueuedAt).toBeGreaterThanOrEqual(queuedFrom - 1000);
          expect(sending.oldestQueuedAt).toBeLessThanOrEqual(Date.now());
        } finally {
          // Closing the queue waits for this send.
          release();
        }
        await waitFor(async () => (await queue.backlog()).active === 0, "the send to end");
        expect(await queue.backlog()).toEqual({ waiting: 0, delayed: 0, active: 0, oldestQueuedAt: null });
      });

      it("counts a message waiting out a retry's backoff as delayed, still the oldest", async () => {
        const failing = { name: "failing", send: () => Promise.reject(new DeliveryError("try later", { retryable: true })) };
        const { queue } = setup({ senders: { email: failing }, retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
        const queuedFrom = Date.now();
        await queue.enqueue(emailMessage);
        const backingOff = await waitFor(async () => {
          const b = await queue.backlog();
          return b.delayed === 1 && b;
        }, "the retry to be scheduled");
        expect(backingOff).toMatchObject({ waiting: 0, delayed: 1, active: 0 });
        expect(backingOff.oldestQueuedAt).toBeGreaterThanOrEqual(queuedFrom - 1000);
      });
    });
  });
}
