import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "graphql-ws";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { createTestDatabaseUrl, type EmptyPostgresDatabase } from "../helpers/database";
import { runGatewayToExit, startGatewayProcess, type GatewayProcess } from "../helpers/process";
import { deleteKeysUnder, scanKeys } from "../helpers/redis-keyspace";

const SIGN_UP = `mutation($i: SignUpInput!) { signUp(input: $i) { status tokens { accessToken } } }`;

// Each case starts `node dist/src/main.js` (PGlite on a cold start), some twice: on a busy
// machine that alone can pass Jest's 30 s default. A ceiling, not a timing assertion.
jest.setTimeout(120_000);

describe("the gateway process (npm start)", () => {
  let dataDir: string;
  let gw: GatewayProcess | undefined;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-data-"));
  });
  afterEach(async () => {
    if (gw && gw.child.exitCode === null) {
      gw.child.kill("SIGKILL");
      await gw.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs on embedded defaults with no settings, saying so once each, and keeps data across restarts", async () => {
    gw = await startGatewayProcess({ DATA_DIR: dataDir });
    const messages = gw.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    for (const said of [/DATABASE_URL unset: using embedded PGlite/, /REDIS_URL unset/, /SMTP_URL unset/, /TWILIO_\* unset/, /JWT_PRIVATE_KEY unset/]) {
      expect(messages.filter((m) => said.test(m))).toHaveLength(1);
    }
    const r = await gw.request<{ signUp: { status: string } }, object>(SIGN_UP, { i: { email: "fresh@example.com", password: "correct horse battery" } });
    expect(r.data!.signUp.status).toBe("AUTHENTICATED");
    const kid = ((await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys[0].kid;
    gw.child.kill("SIGTERM");
    expect((await gw.exited).code).toBe(0);

    gw = await startGatewayProcess({ DATA_DIR: dataDir });
    const again = await gw.request<{ login: { status: string } }, object>(`mutation { login(input: { email: "fresh@example.com", password: "correct horse battery" }) { status } }`);
    expect(again.data!.login.status).toBe("AUTHENTICATED");
    const kidAgain = ((await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys[0].kid;
    expect(kidAgain).toBe(kid);
  });

  it("on SIGTERM finishes in-flight requests, closes WebSockets and exits 0 within 10 s", async () => {
    gw = await startGatewayProcess({ DATA_DIR: dataDir });
    // The server closing this socket is the point of the test, not an error to print.
    const ws = createClient({ url: gw.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
    const wsClosed = new Promise<void>((resolve) => ws.on("closed", () => resolve()));
    await new Promise<void>((resolve) => ws.on("connected", () => resolve()));

    // argon2id hashing keeps this request busy for a while: it is in flight when the signal lands.
    const inFlight = gw.request<{ signUp: { status: string } }, object>(SIGN_UP, { i: { email: "inflight@example.com", password: "correct horse battery" } });
    await new Promise((r) => setTimeout(r, 30));
    const started = Date.now();
    gw.child.kill("SIGTERM");

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.data!.signUp.status).toBe("AUTHENTICATED");
    await wsClosed;
    const { code } = await gw.exited;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(gw.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    await ws.dispose();
  });

  describe("with DATABASE_URL and REDIS_URL", () => {
    let pg: EmptyPostgresDatabase | undefined;
    afterEach(async () => pg?.drop());

    it("migrates a fresh database itself, reports ready, and keeps its Redis keys under REDIS_KEY_PREFIX", async () => {
      pg = await createTestDatabaseUrl();
      const prefix = `gw-process-${Date.now()}:`;
      const env: Record<string, string> = { DATA_DIR: dataDir, REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: prefix };
      if (pg) env.DATABASE_URL = pg.url;
      gw = await startGatewayProcess(env);
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(gw.lines.some((l) => l.includes("REDIS_URL unset"))).toBe(false);
      if (pg) expect(gw.lines.some((l) => l.includes("Postgres: connected"))).toBe(true);
      await gw.request(`mutation { requestOtp(input: { channel: EMAIL, destination: "prefixed@example.com" }) { challengeId } }`);
      const redis = new Redis(process.env.REDIS_URL!);
      try {
        const keys = await scanKeys(redis, prefix);
        expect(keys.some((k) => k.startsWith(`${prefix}otp:{`))).toBe(true);
        // BullMQ's prefix is braced, {REDIS_KEY_PREFIX delivery}: one cluster slot per queue.
        expect(await scanKeys(redis, `{${prefix}delivery}`)).not.toEqual([]);
        await deleteKeysUnder(redis, prefix);
      } finally {
        await redis.quit();
      }
      gw.child.kill("SIGTERM");
      expect((await gw.exited).code).toBe(0);
    });
  });
});

describe("NODE_ENV=production", () => {
  it("refuses to start on embedded defaults or a generated key, naming each setting in one error", async () => {
    const { code, stderr } = await runGatewayToExit({ NODE_ENV: "production" });
    expect(code).toBe(1);
    for (const name of ["PUBLIC_URL", "DATABASE_URL", "REDIS_URL", "SMTP_URL", "JWT_PRIVATE_KEY", "TWILIO_ACCOUNT_SID"]) {
      expect(stderr).toContain(name);
    }
    expect(stderr.match(/Invalid settings/g)).toHaveLength(1);
  });
});
