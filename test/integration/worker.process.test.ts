import { generateKeyPairSync, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTestDatabaseUrl, type EmptyPostgresDatabase } from "../helpers/database";
import { killRunning, runGatewayToExit, startGatewayProcess, startWorkerProcess, WORKER, type GatewayProcess } from "../helpers/process";
import { deleteKeysUnder } from "../helpers/redis-keyspace";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server";
import { waitFor } from "../helpers/wait";

const REQUEST_OTP = `mutation($i: RequestOtpInput!) { requestOtp(input: $i) { challengeId } }`;

// Two processes started from dist: a ceiling, not a timing assertion.
jest.setTimeout(120_000);

describe("the delivery worker as a process of its own (DELIVERY_WORKER=false on the gateway)", () => {
  const dirs: string[] = [];
  const processes: GatewayProcess[] = [];
  const prefix = `worker-${randomUUID().slice(0, 8)}:`;
  let pgDb: EmptyPostgresDatabase | undefined;
  let smtp: TestSmtpServer;

  afterAll(async () => {
    await killRunning(processes);
    await smtp?.close();
    await pgDb?.drop();
    await deleteKeysUnder(process.env.REDIS_URL!, prefix);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const dataDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-worker-"));
    dirs.push(dir);
    return dir;
  };

  it("the gateway only queues; the worker sends what it queued, also what waited for it; SIGTERM stops it cleanly", async () => {
    pgDb = await createTestDatabaseUrl();
    smtp = await startSmtpServer();
    // One deployment: one Redis prefix, one signing key (jobs are sealed under a key derived from it), one database.
    const env: Record<string, string> = {
      REDIS_URL: process.env.REDIS_URL!,
      REDIS_KEY_PREFIX: prefix,
      SMTP_URL: smtp.url,
      JWT_PRIVATE_KEY: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      SMS_ENABLED: "false",
      ...(pgDb && { DATABASE_URL: pgDb.url }),
    };
    // Without Postgres each process has its own embedded database (PGlite has one owner).
    const gateway = await startGatewayProcess({ ...env, DATA_DIR: dataDir(), DELIVERY_WORKER: "false" });
    processes.push(gateway);
    const ask = async (email: string) => {
      const r = await gateway.request<{ requestOtp: { challengeId: string } }, unknown>(REQUEST_OTP, { i: { channel: "EMAIL", destination: email } });
      expect(r.errors).toBeUndefined();
    };

    await ask("queued-first@example.com");
    // Nobody sends it yet: the gateway has no worker.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(smtp.messages).toEqual([]);

    // The gateways' settings as they are (DELIVERY_WORKER=false included), metrics on a port of its own.
    const worker = await startWorkerProcess({ ...env, DATA_DIR: dataDir(), DELIVERY_WORKER: "false", METRICS_PORT: "0" });
    processes.push(worker);
    await waitFor(() => smtp.messages.some((m) => m.to === "queued-first@example.com"), "the code queued before the worker started");
    await ask("queued-later@example.com");
    await waitFor(() => smtp.messages.some((m) => m.to === "queued-later@example.com"), "the code queued while the worker runs");
    for (const m of smtp.messages) expect(m.text).toMatch(/\b\d{6}\b/);
    // Sent once each.
    expect(smtp.messages.map((m) => m.to).sort()).toEqual(["queued-first@example.com", "queued-later@example.com"]);

    // What it sent is counted where it was sent: on the worker's /metrics.
    const metricsPort = (JSON.parse(worker.lines.find((l) => l.includes('"metrics at /metrics"'))!) as { port: number }).port;
    const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(scraped).toMatch(/auth_gateway_messages_total\{channel="email",outcome="sent"\} 2\b/);

    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
    expect(worker.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });

  it("the worker refuses to start where what it sends would be lost: no Redis to read, no SMTP_URL to send by", async () => {
    const noRedis = await runGatewayToExit({ DATA_DIR: dataDir(), SMTP_URL: "smtp://127.0.0.1:2525" }, 60_000, WORKER);
    expect(noRedis.code).toBe(1);
    expect(noRedis.stdout).toContain("needs REDIS_URL or REDIS_CLUSTER_NODES");
    const noSmtp = await runGatewayToExit({ DATA_DIR: dataDir(), REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: prefix, SMS_ENABLED: "false" }, 60_000, WORKER);
    expect(noSmtp.code).toBe(1);
    expect(noSmtp.stdout).toContain("needs SMTP_URL");
  });

  it("DELIVERY_WORKER=false without Redis refuses to start: nothing would send the in-process queue", async () => {
    const { code, stderr } = await runGatewayToExit({ DATA_DIR: dataDir(), DELIVERY_WORKER: "false" });
    expect(code).toBe(1);
    expect(stderr).toContain("DELIVERY_WORKER: false needs REDIS_URL or REDIS_CLUSTER_NODES");
  });
});
