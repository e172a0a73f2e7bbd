import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { createTestDatabaseUrl, type EmptyPostgresDatabase } from "../helpers/database";
import { killRunning, startGatewayProcess, type GatewayProcess } from "../helpers/process";

const SIGN_UP = `mutation($i: SignUpInput!) { signUp(input: $i) { status } }`;

type Outcome = { id: string; startedAt: number; kind: "ok" | "refused" | "lost" | "other"; detail?: string };

/** One signUp over `agent`'s keep-alive sockets; how it ended, never thrown. */
function signUp(agent: http.Agent, port: number, n: number, startedAt: number): Promise<Outcome> {
  const id = `drain-${n}`;
  // A fresh address each time: the per-IP sign-up limit is not what this test is about.
  const body = JSON.stringify({ query: SIGN_UP, variables: { i: { email: `drain-${n}@example.com`, password: "correct horse battery" } } });
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        port,
        host: "127.0.0.1",
        method: "POST",
        path: "/graphql",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-request-id": id,
          "x-forwarded-for": `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("error", (e) => resolve({ id, startedAt, kind: "lost", detail: e.message }));
        res.on("end", () => {
          try {
            const status = (JSON.parse(text) as { data?: { signUp?: { status?: string } } }).data?.signUp?.status;
            resolve({ id, startedAt, kind: status === "AUTHENTICATED" ? "ok" : "other", detail: text.slice(0, 200) });
          } catch {
            resolve({ id, startedAt, kind: "lost", detail: `truncated body: ${text.slice(0, 80)}` });
          }
        });
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) =>
      resolve({ id, startedAt, kind: e.code === "ECONNREFUSED" ? "refused" : "lost", detail: `${e.code ?? ""} ${e.message}` }),
    );
    req.end(body);
  });
}

// Each case starts `node dist/src/main.js` (PGlite on a cold start), some twice: on a busy
// machine that alone can pass Jest's 30 s default. A ceiling, not a timing assertion.
jest.setTimeout(120_000);

describe("SIGTERM under keep-alive load", () => {
  let dataDir: string;
  let gw: GatewayProcess | undefined;
  let pgDb: EmptyPostgresDatabase | undefined;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-drain-"));
  });
  afterEach(async () => {
    await killRunning([gw]);
    await pgDb?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers every request it started in full, fails /readyz first while still serving, and exits 0", async () => {
    pgDb = await createTestDatabaseUrl();
    const env: Record<string, string> = { DATA_DIR: dataDir, TRUST_PROXY: "1", SHUTDOWN_READINESS_DELAY_SECONDS: "2", SHUTDOWN_TIMEOUT_SECONDS: "10" };
    if (pgDb) env.DATABASE_URL = pgDb.url;
    gw = await startGatewayProcess(env);
    const port = Number(new URL(gw.url).port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });

    let n = 0;
    let signalled = false;
    let readyzFailedAt = Infinity;
    const outcomes: Outcome[] = [];
    // Six clients, each sending its next request as soon as the last one ended, until refused.
    const worker = async () => {
      for (;;) {
        const outcome = await signUp(agent, port, n++, Date.now());
        outcomes.push(outcome);
        if (signalled && outcome.kind === "refused") return;
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    while (outcomes.filter((o) => o.kind === "ok").length < 12) await new Promise((r) => setTimeout(r, 20));

    signalled = true;
    let exited = false;
    void gw.exited.then(() => (exited = true));
    gw.child.kill("SIGTERM");
    // Readiness fails first, while the server still answers everything else.
    while (!exited) {
      const r = await fetch(`${gw.url}/readyz`).catch(() => null);
      if (r?.status === 503) {
        readyzFailedAt = Date.now();
        break;
      }
    }
    await Promise.all(workers);
    const { code } = await gw.exited;
    agent.destroy();

    // Every request the server logged (it logs each one it handled) got its whole answer.
    const handled = new Set(
      gw.lines.map((l) => (JSON.parse(l) as { req?: { id?: string } }).req?.id).filter((id): id is string => !!id),
    );
    const lost = outcomes.filter((o) => o.kind === "lost");
    expect(lost.filter((o) => handled.has(o.id))).toEqual([]);
    expect(outcomes.filter((o) => o.kind === "other")).toEqual([]);
    const ok = outcomes.filter((o) => o.kind === "ok");
    if (pgDb) {
      // Every account created is one whose sign-up got its answer.
      const client = new pg.Client({ connectionString: pgDb.url });
      await client.connect();
      const { rows } = await client.query<{ count: string }>(`SELECT count(*) FROM users`);
      await client.end();
      expect(Number(rows[0].count)).toBe(ok.length);
    }
    expect(ok.some((o) => o.startedAt > readyzFailedAt)).toBe(true);
    expect(code).toBe(0);
  });
});
