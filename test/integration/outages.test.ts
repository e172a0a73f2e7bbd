import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { LoginDocument, MeDocument, RequestMagicLinkDocument, RequestOtpDocument, SignUpDocument, VerifyOtpDocument } from "../__generated__/graphql";
import { codeIn } from "../helpers/codes";
import pg from "pg";
import { openDatabase } from "../../src/infra/db";
import { createTestDatabase, createTestDatabaseUrl, MIGRATIONS_DIR, postgresServerUrl, type TestDatabase } from "../helpers/database";
import { startTestGateway, type GqlResult, type TestGateway } from "../helpers/gateway";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server";
import { hostAndPort, startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { sleep, waitFor } from "../helpers/wait";

/** What a person sees while a part the gateway depends on is down, and after it is back. */

describe("a mail outage (SMTP answering 451)", () => {
  let smtp: TestSmtpServer;
  let gw: TestGateway;
  // The gateway's clock, moved forward by a test to end a code's life without waiting for it.
  let offsetMs = 0;
  const clock = { now: () => new Date(Date.now() + offsetMs) };
  const MAX_ATTEMPTS = 2;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    gw = await startTestGateway({
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: "codes@example.test", OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_TTL_SECONDS: "60" },
      retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 10, maxDelayMs: 100 },
    });
  });
  afterAll(async () => {
    smtp.recover();
    await gw.close();
    await smtp.close();
  });

  const requestCode = (destination: string) => gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination, purpose: "SIGN_IN" } });
  const deliveryFailures = () => gw.db.db.prisma.authEvent.findMany({ where: { type: "delivery.failed" } });

  it("loses no code or link: each is retried past maxAttempts and arrives once the server recovers", async () => {
    smtp.refuseAll(451);
    const people = ["ada@example.com", "grace@example.com", "alan@example.com"];
    const challenges = [];
    for (const to of people) challenges.push((await requestCode(to)).data!.requestOtp);
    expect((await gw.request(RequestMagicLinkDocument, { input: { email: "edsger@example.com" } })).errors).toBeUndefined();
    const all = [...people, "edsger@example.com"];
    // Every message was refused more often than maxAttempts would have allowed.
    await waitFor(() => all.every((to) => smtp.attemptsFor(to) > MAX_ATTEMPTS), "the outage to outlast maxAttempts");
    smtp.recover();

    const mails = await smtp.waitForMessages(all.length);
    expect(mails.map((m) => m.to).sort()).toEqual([...all].sort());
    const mail = mails.find((m) => m.to === "ada@example.com")!;
    const signedIn = await gw.request(VerifyOtpDocument, { input: { challengeId: challenges[0].challengeId, code: codeIn(mail.text) } });
    expect(signedIn.data!.verifyOtp.status).toBe("AUTHENTICATED");
    expect(await deliveryFailures()).toEqual([]);
  });

  it("gives up on a code whose life ends during the outage, audits delivery.failed, and never sends it late", async () => {
    smtp.refuseAll(451);
    const { requestOtp } = (await requestCode("late@example.com")).data!;
    await waitFor(() => smtp.attemptsFor("late@example.com") > MAX_ATTEMPTS, "retries past maxAttempts");
    offsetMs = Date.parse(requestOtp.expiresAt) - Date.now(); // the code's life is over
    const [failed] = await waitFor(async () => {
      const rows = await deliveryFailures();
      return rows.length > 0 && rows;
    }, "the delivery.failed audit row");
    expect(failed).toMatchObject({ ok: false, detail: { channel: "email", purpose: "otp.sign_in" } });
    expect((failed.detail as { reason: string }).reason).toMatch(/^SMTP 451 at RCPT TO; (gave up after \d+ attempts: the message expires|expired before attempt)/);
    const triedUntilGivenUp = smtp.attemptsFor("late@example.com");
    smtp.recover();
    await sleep(300);
    expect(smtp.attemptsFor("late@example.com")).toBe(triedUntilGivenUp);
    expect(smtp.messages.some((m) => m.to === "late@example.com")).toBe(false);
  });
});

describe("an audit log that fails (Postgres refusing the write)", () => {
  let smtp: TestSmtpServer;
  let gw: TestGateway;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    gw = await startTestGateway({
      env: { SMTP_URL: smtp.url, MAIL_FROM: "codes@example.test", OTP_RESEND_COOLDOWN_SECONDS: "0" },
      // The failure injection: the audit port's write rejects the way a lost database does.
      override: () => ({ audit: { record: () => Promise.reject(Object.assign(new Error("Connection terminated unexpectedly"), { code: "57P01" })) } }),
    });
  });
  afterAll(async () => {
    await gw.close();
    await smtp.close();
  });

  /** Long enough for a queued message to have reached the SMTP server. */
  const QUIET_MS = 500;

  it("requestOtp answers an error and no code leaves the building", async () => {
    const r = await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: "unaudited@example.com", purpose: "SIGN_IN" } });
    expect(r.data).toBeNull();
    expect(r.errors?.[0]?.extensions?.code).toBeDefined();
    await sleep(QUIET_MS);
    expect(smtp.attemptsFor("unaudited@example.com")).toBe(0);
  });

  it("requestMagicLink answers an error and no link leaves the building", async () => {
    const r = await gw.request(RequestMagicLinkDocument, { input: { email: "unaudited-link@example.com" } });
    expect(r.data).toBeNull();
    expect(r.errors?.[0]?.extensions?.code).toBeDefined();
    await sleep(QUIET_MS);
    expect(smtp.attemptsFor("unaudited-link@example.com")).toBe(0);
  });
});

describe("Redis or Postgres not answering", () => {
  let redis: TcpProxy;
  let postgres: TcpProxy;
  let database: TestDatabase;
  let gw: TestGateway;
  let token: string;
  const password = "correct horse battery";

  beforeAll(async () => {
    redis = await startTcpProxy(hostAndPort(process.env.REDIS_URL!, 6379));
    const serverUrl = await postgresServerUrl();
    postgres = await startTcpProxy(hostAndPort(serverUrl, 5432));
    database = await createTestDatabase(serverUrl);
    gw = await startTestGateway({
      db: database,
      through: { redis, postgres },
      env: { REDIS_COMMAND_TIMEOUT_MS: "1000", DATABASE_QUERY_TIMEOUT_MS: "1500", OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_PER_DESTINATION_PER_HOUR: "100" },
    });
    const signedUp = await gw.request(SignUpDocument, { input: { email: "outage@example.com", password } });
    token = signedUp.data!.signUp.tokens!.accessToken;
  });
  afterEach(async () => {
    await redis.pass();
    await postgres.pass();
  });
  afterAll(async () => {
    await gw.close();
    await database.cleanup();
    await redis.close();
    await postgres.close();
  });

  const requestCode = () => gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: "outage@example.com", purpose: "SIGN_IN" } });
  const login = () => gw.request(LoginDocument, { input: { email: "outage@example.com", password } });
  const me = () => gw.request(MeDocument, undefined, { token });

  /** The answer to expect: retryable, masked (no driver wording), with a wait. */
  const expectUnavailable = (r: GqlResult<unknown>) => {
    expect(r.errors?.[0]).toMatchObject({ message: "The service is unavailable for a moment. Try again shortly.", extensions: { code: "UNAVAILABLE", retryAfter: 5 } });
    expect(JSON.stringify(r.errors)).not.toMatch(/timed out|timeout|Connection|ECONN/i);
  };

  it("Redis partitioned: requests answer UNAVAILABLE with retryAfter, then work again without a restart", async () => {
    redis.blackHole();
    expectUnavailable(await requestCode());
    expectUnavailable(await me());
    expect(gw.logs.some((l) => l.level === "warn" && l.msg === "dependency unavailable")).toBe(true);
    await redis.pass();
    expect((await requestCode()).errors).toBeUndefined();
    expect((await me()).data?.me).toMatchObject({ email: "outage@example.com" });
  });

  it("Redis refusing connections: requests answer UNAVAILABLE, then work again once it is back", async () => {
    await redis.refuse();
    expectUnavailable(await requestCode());
    await redis.pass();
    // ioredis reconnects on its own backoff; no restart.
    await waitFor(async () => (await requestCode()).errors === undefined, "a request to succeed again");
  });

  it("Postgres partitioned: requests answer UNAVAILABLE with retryAfter, then work again without a restart", async () => {
    postgres.blackHole();
    expectUnavailable(await login());
    expectUnavailable(await me());
    await postgres.pass();
    expect((await login()).data?.login).toMatchObject({ status: "AUTHENTICATED" });
  });

  it("WebSocket: an operation while Redis is partitioned answers UNAVAILABLE instead of hanging", async () => {
    const client = createClient({ url: gw.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    const run = () =>
      new Promise<unknown>((resolve) => {
        const results: unknown[] = [];
        client.subscribe({ query: print(MeDocument) }, { next: (v) => results.push(v), error: (e) => resolve({ error: e }), complete: () => resolve(results) });
      });
    try {
      redis.blackHole();
      // Authenticating reads the store: the operation answers, the socket stays open.
      expect(await run()).toEqual([{ data: { me: null }, errors: [expect.objectContaining({ extensions: { code: "UNAVAILABLE", retryAfter: 5 } })] }]);
      await redis.pass();
      expect(await run()).toEqual([{ data: { me: expect.objectContaining({ email: "outage@example.com" }) } }]);
    } finally {
      await client.dispose();
    }
  });
});

describe("Postgres closing an idle pooled connection (a restart, an administrator)", () => {
  it("is logged, not an uncaught error, and the next query reconnects", async () => {
    const serverUrl = await postgresServerUrl();
    const empty = await createTestDatabaseUrl(serverUrl);
    const closed: Error[] = [];
    const db = await openDatabase({ url: empty!.url, migrationsDir: MIGRATIONS_DIR, log: () => {}, onIdleError: (e) => closed.push(e) });
    try {
      await db.sql("SELECT 1");
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      try {
        const dbName = new URL(empty!.url).pathname.slice(1);
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [dbName]);
      } finally {
        await admin.end();
      }
      await waitFor(() => closed.length > 0, "the pool to report the closed connection");
      expect(closed[0].message).toMatch(/terminating connection/);
      expect(await db.sql<{ one: number }>("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
      await empty!.drop();
    }
  });
});
