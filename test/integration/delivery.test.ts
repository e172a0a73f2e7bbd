import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { Redis } from "ioredis";
import { loadSettings } from "../../src/config/settings";
import type { OutgoingMessage } from "../../src/core/ports";
import {
  ChannelDisabledError,
  createDelivery,
  createDeliveryQueue,
  DeliveryError,
  DevOutbox,
  devOutboxRouter,
  type Delivery,
  type OutboxEntry,
  type Sender,
} from "../../src/infra/delivery";
import { SmtpSender } from "../../src/infra/mail/smtp.sender";
import { createTwilioSenders } from "../../src/infra/sms/twilio.sender";
import { CODE, MAIL_FROM, TWILIO_FROM, describeDeliveryQueueContract, emailMessage, smsMessage, voiceMessage } from "../contracts/delivery-queue.contract";
import { MemoryAuditLog } from "../helpers/audit";
import { captureLogger } from "../helpers/log";
import { freePort, silentServer } from "../helpers/ports";
import { deleteKeysUnder, scanKeys } from "../helpers/redis-keyspace";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server";
import { providerSettings } from "../helpers/providers";
import { startTwilioEndpoint, type TwilioEndpoint } from "../helpers/twilio-endpoint";
import { sleep, waitFor } from "../helpers/wait";

// global-setup guarantees a Redis (REDIS_URL or a throwaway redis-server).
const redisUrl = process.env.REDIS_URL as string;
// BullMQ keys of this file only; each queue gets its own prefix below it.
const filePrefix = `test-delivery-${randomUUID()}`;
let queues = 0;
const nextPrefix = () => `${filePrefix}-${++queues}`;
/** What the composition root derives from the signing key ("delivery-queue"). */
const payloadKey = randomBytes(32);

afterAll(async () => {
  await deleteKeysUnder(redisUrl, filePrefix);
});

// Runs first: ioredis keeps a 2 s timer after closing a connection that never came up
// (AbstractConnector's disconnectTimeout), which the suites below outlast.
describe("BullMQ queue without Redis", () => {
  it("enqueue gives up after connectWaitMs while Redis is unreachable, instead of holding the caller", async () => {
    const { log } = captureLogger("silent");
    const unreachable = `redis://127.0.0.1:${await freePort()}`;
    const queue = createDeliveryQueue({ senders: { sms: new DevOutbox(log) }, audit: new MemoryAuditLog(), log, redisUrl: unreachable, queuePrefix: nextPrefix(), connectWaitMs: 200, payloadKey });
    try {
      // Refused at once (ECONNREFUSED) or after the wait: either way the caller is not held.
      await expect(queue.enqueue(smsMessage)).rejects.toThrow(/Redis is unavailable|ECONNREFUSED/);
    } finally {
      await queue.close();
    }
  });

  it("closing while Redis never came up leaves no unhandled error behind", async () => {
    const { log } = captureLogger("silent");
    const unreachable = `redis://127.0.0.1:${await freePort()}`;
    const queue = createDeliveryQueue({ senders: { sms: new DevOutbox(log) }, audit: new MemoryAuditLog(), log, redisUrl: unreachable, queuePrefix: nextPrefix(), connectWaitMs: 100, payloadKey });
    await expect(queue.enqueue(smsMessage)).rejects.toThrow();
    await queue.close();
    // What ioredis emits when a connect attempt still in flight is ended by the close: BullMQ,
    // which stopped listening on close, used to re-raise it as an unhandled rejection (a
    // CI failure under load). Jest fails this test if one escapes.
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    try {
      const internals = queue as unknown as Record<string, NodeJS.EventEmitter & Record<string, NodeJS.EventEmitter>>;
      for (const connection of ["producerConnection", "workerConnection"]) internals[connection].emit("end");
      // The same for the connection BullMQ owns (the worker's blocking one): a late error is dropped.
      for (const wrapper of [internals.queue.connection, internals.worker.connection, internals.worker.blockingConnection]) {
        expect(() => wrapper.emit("error", new Error("late"))).not.toThrow();
      }
      await sleep(50);
    } finally {
      process.off("unhandledRejection", record);
    }
    expect(unhandled).toEqual([]);
  });
});

describeDeliveryQueueContract("BullMQ over REDIS_URL", (options) => createDeliveryQueue({ ...options, redisUrl, queuePrefix: nextPrefix(), payloadKey }));
describeDeliveryQueueContract("in process", (options) => createDeliveryQueue(options));

describe("one provider, each queue", () => {
  let twilio: TwilioEndpoint;
  beforeEach(async () => {
    twilio = await startTwilioEndpoint();
  });
  afterEach(() => twilio.close());

  const twilioSenders = () => createTwilioSenders({ accountSid: twilio.accountSid, authToken: twilio.authToken, from: TWILIO_FROM, apiBaseUrl: twilio.baseUrl });
  // Retries wait exactly the backoff ceiling, so a test can act while one is pending.
  const slowRetry = { baseDelayMs: 400, maxDelayMs: 2_000, maxAttempts: 3 };

  it("BullMQ: a job waiting for its retry survives a restart and is sent by the next worker", async () => {
    const audit = new MemoryAuditLog();
    const { log } = captureLogger();
    const prefix = nextPrefix();
    const options = { senders: twilioSenders(), audit, log, retry: slowRetry, random: () => 1, redisUrl, queuePrefix: prefix, payloadKey };
    twilio.script({ status: 503 });

    const first = createDeliveryQueue(options);
    await first.enqueue(smsMessage);
    await waitFor(() => twilio.requests[0]?.status, "the 503");
    await first.close();
    expect(twilio.requests).toHaveLength(1);

    const second = createDeliveryQueue(options);
    try {
      const [, retried] = await twilio.waitForRequests(2);
      await waitFor(() => retried.status, "the retry's answer");
      expect(twilio.requests.map((r) => r.status)).toEqual([503, 201]);
      expect(audit.events).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it("BullMQ: leaves no copy of the message in Redis once it was sent or given up", async () => {
    const { log } = captureLogger("silent");
    const prefix = nextPrefix();
    const queue = createDeliveryQueue({ senders: twilioSenders(), audit: new MemoryAuditLog(), log, redisUrl, queuePrefix: prefix, payloadKey });
    const raw = new Redis(redisUrl);
    try {
      twilio.script({ status: 400, code: 21211 });
      await queue.enqueue(smsMessage);
      await queue.enqueue(voiceMessage);
      await twilio.waitForRequests(2);
      await waitFor(() => twilio.requests.every((r) => r.status), "both answers");
      await queue.close();
      const stored = await dumpKeys(raw, `{${prefix}}:`);
      expect(stored.length).toBeGreaterThan(0); // the queue's own bookkeeping is there
      expect(stored.join("\n")).not.toContain(CODE);
      expect(stored.join("\n")).not.toContain("14155550100");
    } finally {
      await queue.close();
      await raw.quit();
    }
  });

  it("in process: closing audits a message still waiting for its retry", async () => {
    const audit = new MemoryAuditLog();
    const { log, lines } = captureLogger();
    const queue = createDeliveryQueue({ senders: twilioSenders(), audit, log, retry: slowRetry, random: () => 1 });
    twilio.script({ status: 503 });
    await queue.enqueue(smsMessage);
    await waitFor(() => lines.some((l) => l.includes("will retry")), "the retry to be scheduled");
    await queue.close();
    expect(twilio.requests).toHaveLength(1);
    expect(audit.events).toEqual([
      {
        type: "delivery.failed",
        ok: false,
        userId: "user-1",
        detail: { channel: "sms", purpose: "otp.sign_in", attempts: 1, status: 503, reason: "Twilio error 20503 (HTTP 503); not retried: the queue was closed" },
      },
    ]);
  });
});

describe("BullMQ: a message is sealed while it waits in Redis", () => {
  const QUEUE = "outgoing-messages";
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * A BullMQ queue sending one message at a time through a sender that holds every send
   * until released: the first job stays active, the next waits in Redis behind it.
   */
  function heldQueue(options: { prefix?: string; key?: Buffer } = {}) {
    const received: OutgoingMessage[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const sender: Sender = {
      name: "held",
      async send(message) {
        received.push(message);
        await released;
      },
    };
    const audit = new MemoryAuditLog();
    const { log, lines } = captureLogger();
    const prefix = options.prefix ?? nextPrefix();
    const queue = createDeliveryQueue({ senders: { email: sender, sms: sender }, audit, log, redisUrl, queuePrefix: prefix, payloadKey: options.key ?? payloadKey, concurrency: 1 });
    const raw = new Redis(redisUrl);
    cleanups.push(async () => {
      release();
      await queue.close();
      await raw.quit();
    });
    /** The first message sending, the second waiting: returns the waiting job's hash key. */
    const holdTwo = async (): Promise<string> => {
      await queue.enqueue(emailMessage);
      await queue.enqueue(smsMessage);
      await waitFor(() => received.length === 1, "the first send to start");
      const waiting = await raw.lrange(`{${prefix}}:${QUEUE}:wait`, 0, -1);
      expect(waiting).toHaveLength(1);
      return `{${prefix}}:${QUEUE}:${waiting[0]}`;
    };
    return { queue, prefix, raw, audit, lines, received, release, holdTwo };
  }

  const refused = (reason: string) => ({
    type: "delivery.failed",
    ok: false,
    userId: null,
    detail: { channel: "sms", purpose: "otp.sign_in", attempts: 1, status: null, reason },
  });

  it("keeps neither the code nor the address readable in Redis, and sends both messages intact", async () => {
    const { prefix, raw, received, release, holdTwo } = heldQueue();
    const waitingKey = await holdTwo();
    expect(JSON.parse((await raw.hget(waitingKey, "data")) as string)).toEqual({ channel: "sms", purpose: "otp.sign_in", sealed: expect.stringMatching(/^v1\./) });

    const stored = (await dumpKeys(raw, `{${prefix}}:`)).join("\n");
    const jobHashes = stored.split("\n").filter((line) => line.includes('"data":'));
    expect(jobHashes).toHaveLength(2); // the active job and the waiting one
    for (const secret of [CODE, "ada@example.com", "14155550100"]) expect(stored).not.toContain(secret);

    release();
    await waitFor(() => received.length === 2, "the second send");
    expect(received).toEqual([emailMessage, smsMessage]);
  });

  it("fails a job changed in Redis without sending or retrying it, and audits it without the message", async () => {
    const { raw, audit, lines, received, release, holdTwo } = heldQueue();
    const waitingKey = await holdTwo();
    const data = JSON.parse((await raw.hget(waitingKey, "data")) as string) as { sealed: string };
    const [version, iv, ciphertext, tag] = data.sealed.split(".");
    const changed = Buffer.from(ciphertext, "base64url");
    changed[0] ^= 0x01;
    await raw.hset(waitingKey, "data", JSON.stringify({ ...data, sealed: [version, iv, changed.toString("base64url"), tag].join(".") }));

    release();
    await waitFor(() => audit.events.length > 0, "the audit record");
    await sleep(300);
    expect(received).toEqual([emailMessage]);
    expect(audit.events).toEqual([refused("queued message refused: the sealed payload failed authentication (changed, or sealed under another key)")]);
    expect(await raw.exists(waitingKey)).toBe(0); // failed for good, not waiting for a retry
    expect(JSON.stringify(audit.events) + lines.join("\n")).not.toContain(CODE);
  });

  it("fails, without retry, a job sealed under another instance's key", async () => {
    const first = heldQueue();
    await first.holdTwo();
    // Another instance on the same queue with a different key takes the waiting job.
    const second = heldQueue({ prefix: first.prefix, key: randomBytes(32) });
    await waitFor(() => second.audit.events.length > 0, "the other instance's audit record");
    first.release();
    await sleep(300);
    expect(first.received).toEqual([emailMessage]);
    expect(second.received).toEqual([]);
    expect(first.audit.events).toEqual([]);
    expect(second.audit.events).toEqual([refused("queued message refused: the sealed payload failed authentication (changed, or sealed under another key)")]);
  });

  it("refuses to start without a 32-byte payloadKey", () => {
    const { log } = captureLogger("silent");
    const options = { senders: { sms: new DevOutbox(log) }, audit: new MemoryAuditLog(), log, redisUrl, queuePrefix: nextPrefix() };
    expect(() => createDeliveryQueue(options)).toThrow("payloadKey is required with redisUrl: BullMQ jobs are sealed at rest");
    expect(() => createDeliveryQueue({ ...options, payloadKey: randomBytes(16) })).toThrow("the payload key must be 32 bytes");
  });
});

describe("senders, without a queue", () => {
  it("SMTP: a server that never greets fails the attempt as a retryable timeout", async () => {
    const silent = await silentServer();
    const sender = new SmtpSender({ url: `smtp://127.0.0.1:${silent.port}`, from: MAIL_FROM, greetingTimeoutMs: 200 });
    try {
      const error = await sender.send(emailMessage).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({ retryable: true, reason: "SMTP timeout (ETIMEDOUT)" });
    } finally {
      await sender.close();
      await silent.close();
    }
  });

  it("SMTP: a refused connection is retryable", async () => {
    const sender = new SmtpSender({ url: `smtp://127.0.0.1:${await freePort()}`, from: MAIL_FROM });
    try {
      await expect(sender.send(emailMessage)).rejects.toMatchObject({ retryable: true });
    } finally {
      await sender.close();
    }
  });

  it("SMTP: rejected credentials are final", async () => {
    const smtp = await startSmtpServer();
    const sender = new SmtpSender({ url: smtp.url.replace("mail-secret", "wrong"), from: MAIL_FROM });
    try {
      await expect(sender.send(emailMessage)).rejects.toMatchObject({ retryable: false, status: 535 });
      expect(smtp.messages).toEqual([]);
    } finally {
      await sender.close();
      await smtp.close();
    }
  });

  it("Twilio: a wrong auth token is final", async () => {
    const twilio = await startTwilioEndpoint();
    try {
      const { sms } = createTwilioSenders({ accountSid: twilio.accountSid, authToken: "wrong", from: TWILIO_FROM, apiBaseUrl: twilio.baseUrl });
      await expect(sms.send(smsMessage)).rejects.toMatchObject({ retryable: false, status: 401, reason: "Twilio error 20003 (HTTP 401)" });
    } finally {
      await twilio.close();
    }
  });

  it("Twilio: TWILIO_API_BASE_URL may carry a path prefix (a proxy)", async () => {
    const twilio = await startTwilioEndpoint();
    try {
      const { sms } = createTwilioSenders({ accountSid: twilio.accountSid, authToken: twilio.authToken, from: TWILIO_FROM, apiBaseUrl: `${twilio.baseUrl}/proxy/` });
      // The endpoint only knows /2010-04-01/..., so the prefixed path reaches it as a 404.
      await expect(sms.send(smsMessage)).rejects.toMatchObject({ retryable: false, status: 404 });
      expect(twilio.requests).toEqual([]);
    } finally {
      await twilio.close();
    }
  });
});

describe("createDelivery", () => {
  let smtp: TestSmtpServer;
  let twilio: TwilioEndpoint;
  let delivery: Delivery | undefined;

  beforeEach(async () => {
    [smtp, twilio] = await Promise.all([startSmtpServer(), startTwilioEndpoint()]);
  });
  afterEach(async () => {
    await delivery?.close();
    delivery = undefined;
    await Promise.all([smtp.close(), twilio.close()]);
  });

  const settingsWith = (env: Record<string, string>) => loadSettings({ NODE_ENV: "test", ...env });
  const providers = () => providerSettings(smtp, twilio, { mailFrom: MAIL_FROM, smsFrom: TWILIO_FROM });

  it("sends email by SMTP and SMS and voice by Twilio when they are configured", async () => {
    const { log } = captureLogger();
    delivery = createDelivery(settingsWith(providers()), { log, audit: new MemoryAuditLog(), redisUrl, queuePrefix: nextPrefix(), payloadKey });
    expect(delivery.queue.kind).toBe("bullmq");
    expect(delivery.outbox).toBeUndefined();
    await delivery.queue.enqueue(emailMessage);
    await delivery.queue.enqueue(smsMessage);
    await delivery.queue.enqueue(voiceMessage);
    await smtp.waitForMessages(1);
    const requests = await twilio.waitForRequests(2);
    expect(requests.map((r) => r.kind).sort()).toEqual(["call", "message"]);
  });

  it("uses the development outbox when SMTP and Twilio are unset, and prints each message", async () => {
    const { log, lines } = captureLogger();
    delivery = createDelivery(settingsWith({}), { log, audit: new MemoryAuditLog() });
    const outbox = delivery.outbox!;
    expect(delivery.queue.kind).toBe("memory");
    await delivery.queue.enqueue(emailMessage);
    await waitFor(() => outbox.list().length === 1, "the email in the outbox");
    await delivery.queue.enqueue(smsMessage);
    await waitFor(() => outbox.list().length === 2, "the SMS in the outbox");
    expect(outbox.list().map((e) => e.channel)).toEqual(["sms", "email"]);
    expect(outbox.list()[1]).toMatchObject({ to: "ada@example.com", subject: "Your sign-in code", text: emailMessage.text, html: emailMessage.html, purpose: "otp.sign_in" });
    const printed = lines.filter((l) => l.includes("dev outbox"));
    expect(printed).toHaveLength(2);
    expect(printed[0]).toContain(`email to ada@example.com \\"Your sign-in code\\": Your sign-in code is ${CODE}`);
    expect(smtp.messages).toEqual([]);
    expect(twilio.requests).toEqual([]);
  });

  it("refuses SMS and voice at enqueue when SMS_ENABLED=false, and still sends email", async () => {
    const { log } = captureLogger();
    delivery = createDelivery(settingsWith({ ...providers(), SMS_ENABLED: "false" }), { log, audit: new MemoryAuditLog() });
    await expect(delivery.queue.enqueue(smsMessage)).rejects.toThrow(ChannelDisabledError);
    await expect(delivery.queue.enqueue(voiceMessage)).rejects.toThrow("voice messages are turned off on this gateway (SMS_ENABLED=false)");
    await delivery.queue.enqueue(emailMessage);
    await smtp.waitForMessages(1);
    expect(twilio.requests).toEqual([]);
  });

  it("serves the outbox at GET /dev/outbox as JSON, newest first", async () => {
    const { log } = captureLogger("silent");
    delivery = createDelivery(settingsWith({}), { log, audit: new MemoryAuditLog() });
    const outbox = delivery.outbox!;
    for (const to of ["first@example.com", "second@example.com", "third@example.com"]) {
      await delivery.queue.enqueue({ ...emailMessage, to });
      await waitFor(() => outbox.list()[0]?.to === to, `the message to ${to}`);
    }
    const server = http.createServer(express().use("/dev/outbox", devOutboxRouter(outbox)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const res = await fetch(`${base}/dev/outbox`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const entries = (await res.json()) as OutboxEntry[];
      expect(entries.map((e) => e.to)).toEqual(["third@example.com", "second@example.com", "first@example.com"]);
      expect(entries[0]).toMatchObject({ channel: "email", text: emailMessage.text, id: expect.any(String), sentAt: expect.any(String) });
      const filtered = (await (await fetch(`${base}/dev/outbox?to=second@example.com`)).json()) as OutboxEntry[];
      expect(filtered.map((e) => e.to)).toEqual(["second@example.com"]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** Every value under `prefix`, whatever its type, as text. */
async function dumpKeys(raw: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const key of await scanKeys(raw, prefix)) {
    const type = await raw.type(key);
    const value =
      type === "hash" ? await raw.hgetall(key)
      : type === "string" ? await raw.get(key)
      : type === "list" ? await raw.lrange(key, 0, -1)
      : type === "zset" ? await raw.zrange(key, 0, -1)
      : type === "set" ? await raw.smembers(key)
      : type === "stream" ? await raw.xrange(key, "-", "+")
      : type;
    out.push(`${key} ${JSON.stringify(value)}`);
  }
  return out;
}
