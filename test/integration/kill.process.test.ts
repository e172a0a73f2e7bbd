import { generateKeyPairSync, randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { openDatabase } from "../../src/infra/db";
import { createTestDatabaseUrl, MIGRATIONS_DIR, type EmptyPostgresDatabase } from "../helpers/database";
import { killRunning, startGatewayProcess, type GatewayProcess } from "../helpers/process";
import { deleteKeysUnder } from "../helpers/redis-keyspace";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-server";
import { waitFor } from "../helpers/wait";

const REQUEST_OTP = `mutation($i: RequestOtpInput!) { requestOtp(input: $i) { challengeId } }`;

/** One requestOtp whose user agent names it; resolves when its answer is read whole, never rejects. */
function requestOtp(port: number, email: string, userAgent: string, onAnswered: () => void): Promise<boolean> {
  const body = JSON.stringify({ query: REQUEST_OTP, variables: { i: { channel: "EMAIL", destination: email } } });
  return new Promise((resolve) => {
    const req = http.request(
      { port, host: "127.0.0.1", method: "POST", path: "/graphql", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": userAgent } },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("error", () => resolve(false));
        res.on("end", () => {
          const answered = res.statusCode === 200 && text.includes('"challengeId"');
          if (answered) onAnswered();
          resolve(answered);
        });
      },
    );
    req.on("error", () => resolve(false));
    req.end(body);
  });
}

// Two gateway processes and a BullMQ stalled-job recovery (up to its 30 s lock): a ceiling,
// not a timing assertion.
jest.setTimeout(180_000);

describe("SIGKILL right after requestOtp answered", () => {
  let dataDir: string;
  let pgDb: EmptyPostgresDatabase | undefined;
  let smtp: TestSmtpServer;
  const processes: GatewayProcess[] = [];
  const prefix = `kill-${randomUUID().slice(0, 8)}:`;

  afterAll(async () => {
    await killRunning(processes);
    await smtp?.close();
    await pgDb?.drop();
    await deleteKeysUnder(process.env.REDIS_URL!, prefix);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("loses nothing it answered: each code is delivered and each otp.requested event is stored", async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-kill-"));
    pgDb = await createTestDatabaseUrl();
    smtp = await startSmtpServer();
    // The next instance of the same deployment: same database, Redis prefix, keys and data dir.
    const env: Record<string, string> = {
      DATA_DIR: dataDir,
      REDIS_URL: process.env.REDIS_URL!,
      REDIS_KEY_PREFIX: prefix,
      SMTP_URL: smtp.url,
      JWT_PRIVATE_KEY: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      ...(pgDb && { DATABASE_URL: pgDb.url }),
    };
    const first = await startGatewayProcess(env);
    processes.push(first);
    const port = Number(new URL(first.url).port);

    // Ten at once; the process dies the moment the first answer is read, the others wherever they are.
    const run = randomUUID().slice(0, 8);
    const sent = Array.from({ length: 10 }, (_, i) => ({ email: `kill-${run}-${i}@example.com`, userAgent: `kill-test/${run}/${i}` }));
    const answers = await Promise.all(sent.map((r) => requestOtp(port, r.email, r.userAgent, () => first.child.kill("SIGKILL"))));
    expect((await first.exited).signal).toBe("SIGKILL");
    const answered = sent.filter((_, i) => answers[i]);
    expect(answered.length).toBeGreaterThanOrEqual(1);

    // The next instance takes over the queue: a job the killed one held is recovered as stalled.
    const second = await startGatewayProcess(env);
    processes.push(second);
    await waitFor(() => answered.every((r) => smtp.messages.some((m) => m.to === r.email)), "a code email for every answered request", 120_000);
    for (const r of answered) expect(smtp.messages.find((m) => m.to === r.email)!.text).toMatch(/\b\d{6}\b/);

    // Read after the second instance stopped: PGlite has one owner at a time.
    second.child.kill("SIGTERM");
    await second.exited;
    const db = await openDatabase({ url: pgDb?.url, pgliteDir: path.join(dataDir, "pglite"), migrationsDir: MIGRATIONS_DIR, log: () => {} });
    try {
      const events = await db.prisma.authEvent.findMany({ where: { type: "otp.requested", userAgent: { startsWith: `kill-test/${run}/` } } });
      const stored = new Set(events.map((e) => e.userAgent));
      expect(answered.filter((r) => !stored.has(r.userAgent))).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
