/**
 * `npm run bench`: issue #17's table in one run, measured as a user runs the gateway:
 * `node dist/src/main.js` processes (NODE_ENV=production, default log level) on real
 * Postgres, Redis and SMTP, driven by autocannon with 20 connections, next to a bare
 * Apollo Server 5 + Express 5 hello (bench/reference.server.ts) started here, in the same
 * run, on the same machine. Every ratio is gateway / reference.
 *
 *   DATABASE_URL=postgresql://… REDIS_URL=redis://… npm run bench
 *   (BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_LATENCY_N, BENCH_SUBSCRIPTIONS change the sizes;
 *   BENCH_ONLY picks parts; BENCH_MAIN runs another build's dist/src/main.js, for A/B;
 *   BENCH_PROFILE=<dir> writes each gateway's CPU profile there; BENCH_RATE=<req/s> offers a fixed load,
 *   to compare builds by CPU per answer on a busy machine)
 */
import "reflect-metadata";
import { fork, spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { systemClock } from "../src/core/ports";
import { generateKeyEntry } from "../src/core/secret-box";
import { OtpChallengeStore } from "../src/methods/otp/otp-challenge.store";
import { createRedisStore } from "../src/infra/store";
import { deriveSecret, signingKeyFromPem } from "../src/sessions/signing-keys";
import { createTestDatabaseUrl } from "../test/helpers/database";
import { deleteKeysUnder } from "../test/helpers/redis-keyspace";
import { startSmtpServer, type TestSmtpServer } from "../test/helpers/smtp-server";
import { pct, pollFor as pollUntil, runBench, startWatchdog } from "./bench.shared";

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const LATENCY_N = Number(process.env.BENCH_LATENCY_N ?? 200);
const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 10_000);
/**
 * The waiting subscriptions' RSS is read 1 s after the last PENDING and again after this
 * long waiting (BENCH_SETTLE_SECONDS, 60): devices wait minutes, through heartbeats, and V8
 * gives back the pages the set-up burst's garbage filled only once allocation has calmed,
 * on its memory reducer's own schedule (here within 30 to 60 s).
 */
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 60);
/** BENCH_RATE=<req/s>: a fixed offered load instead of as fast as it goes, for A/B by CPU per answer (the ratios then mean nothing). */
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
/** BENCH_ONLY=login,me runs those parts only (otp, refresh, me, login, magic-link, subscriptions). */
const ONLY = process.env.BENCH_ONLY?.split(",").map((p) => p.trim());
const wants = (part: string) => !ONLY || ONLY.includes(part);
const ROOT = path.resolve(__dirname, "../..");
/** BENCH_MAIN: another build's main.js, to compare two versions on the same machine. */
const MAIN = path.resolve(process.env.BENCH_MAIN ?? path.join(ROOT, "dist/src/main.js"));
const PROBE = path.join(__dirname, "event-loop.probe.js");
/**
 * BENCH_WORKER=1: the gateways run with DELIVERY_WORKER=false and one `node dist/src/worker.js`
 * sends (the split a production deployment may choose); CPU per answer then counts both.
 */
const SPLIT_WORKER = process.env.BENCH_WORKER === "1";
const WORKER_MAIN = path.join(path.dirname(MAIN), "worker.js");
const WATCHDOG_MS = 15 * 60_000;

// ---------------------------------------------------------------------------------------
// Processes

interface Proc {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Spawns `node …args`, stdout to a file (as a log shipper would read it); resolves once `ready(line)` gives a port. */
async function spawnServer(name: string, args: string[], env: Record<string, string>, ready: (line: string) => number | undefined): Promise<Proc> {
  const logFile = path.join(os.tmpdir(), `bench-${name}-${process.pid}.log`);
  const out = fs.openSync(logFile, "w");
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", out, "inherit", "ipc"] });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A benchmark that dies must not leave servers behind.
  process.once("exit", () => child.kill("SIGKILL"));
  const port = await new Promise<number>((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = setInterval(() => {
      const text = fs.readFileSync(logFile, "utf8");
      for (const line of text.split("\n")) {
        const p = ready(line);
        if (p) {
          clearInterval(poll);
          return resolve(p);
        }
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        child.kill("SIGKILL");
        reject(new Error(`${name} did not start:\n${text.slice(-2000)}`));
      }
    }, 50);
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      fs.rmSync(logFile, { force: true });
    },
  };
}

const jsonPort = (line: string) => (line.startsWith("{") ? (JSON.parse(line) as { port?: number }).port : undefined);
const gatewayReady = (line: string) => {
  if (!line.startsWith("{")) return undefined;
  const l = JSON.parse(line) as { msg?: string; port?: number };
  return l.msg?.startsWith("gateway ready") ? l.port : undefined;
};

/** BENCH_PROFILE=<dir>: each gateway writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
const PROFILE_ARGS = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROFILE)}`] : [];

function startGateway(name: string, env: Record<string, string>): Promise<Proc> {
  return spawnServer(name, [...PROFILE_ARGS, "--require", PROBE, MAIN], { PORT: "0", HOST: "127.0.0.1", ...env }, gatewayReady);
}

function ask<T>(child: ChildProcess, msg: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m as T));
    child.send(msg);
  });
}

interface EventLoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** Resident memory of a process, from /proc (Linux). */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1];
  return Number(kb) * 1024;
}

// ---------------------------------------------------------------------------------------
// HTTP load

interface Figures {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Answers with GraphQL errors, counted from the bodies. */
  gqlErrors: number;
  /** CPU (all the server's threads) per answer, ms: steadier than req/s on a shared machine, for A/B. */
  cpuMs?: number;
}

/** CPU time a process has used, ms, from /proc (Linux; clock ticks of 10 ms). */
function cpuOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function load(url: string, body: () => string, opts: { headers?: Record<string, string>; onBody?: (body: string) => void; seconds?: number; pids?: number[] } = {}): Promise<Figures> {
  let gqlErrors = 0;
  const cpuNow = () => (opts.pids ?? []).reduce((sum, pid) => sum + cpuOf(pid), 0);
  const cpuBefore = cpuNow();
  const result = await autocannon({
    url: `${url}/graphql`,
    connections: CONNECTIONS,
    duration: opts.seconds ?? DURATION_S,
    ...(RATE && { overallRate: RATE }),
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", ...opts.headers },
        setupRequest: (req) => ({ ...req, body: body() }),
        onResponse: (_status, text) => {
          if (text.includes('"errors"')) gqlErrors++;
          opts.onBody?.(text);
        },
      },
    ],
  });
  const cpuMs = opts.pids ? (cpuNow() - cpuBefore) / Math.max(1, result.requests.total) : undefined;
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx, gqlErrors, cpuMs };
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length) throw new Error(`${body.errors[0].extensions?.code ?? ""} ${body.errors[0].message}`);
  return body.data!;
}

/** Sequential GET /healthz while `during` runs: what a load balancer's probe sees. */
async function healthzDuring<T>(url: string, during: Promise<T>): Promise<{ result: T; p99: number }> {
  let done = false;
  const times: number[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const probe = (async () => {
    while (!done) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) =>
        http.get(`${url}/healthz`, { agent }, (res) => res.resume().on("end", () => resolve())).on("error", reject),
      );
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const result = await during;
  done = true;
  await probe;
  agent.destroy();
  return { result, p99: pct(times, 99) };
}

// ---------------------------------------------------------------------------------------
// Magic links across two processes, and waiting subscriptions

function linkIn(smtp: TestSmtpServer, email: string): Promise<string> {
  return pollFor(() => smtp.messages.find((m) => m.to === email)?.text.match(/token=([\w-]+)/)?.[1], `the link email to ${email}`);
}

const pollFor = <T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> => pollUntil(check, what, timeoutMs);

const REQUEST_LINK = "mutation($i:RequestMagicLinkInput!){requestMagicLink(input:$i){requestId listenToken matchCode}}";
const CONSUME_LINK = "mutation($i:ConsumeMagicLinkInput!){consumeMagicLink(input:$i){status}}";
const LINK_STATUS = "subscription($r:ID!,$l:String!){magicLinkStatus(requestId:$r,listenToken:$l){state auth{status}}}";

/** n sequential sign-ins waiting on A, opened and confirmed on B: ms from consume sent to CONFIRMED heard on A. */
async function clickToConfirmed(n: number, a: Proc, b: Proc, smtp: TestSmtpServer): Promise<number[]> {
  const ws = createClient({ url: a.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const email = `lat-${i}-${randomUUID()}@bench.test`;
      const asked = (await gql<{ requestMagicLink: { requestId: string; listenToken: string; matchCode: string } }>(a.url, REQUEST_LINK, { i: { email } })).requestMagicLink;
      const arrived = new Map<string, number>();
      let failure: unknown;
      const stop = ws.subscribe(
        { query: LINK_STATUS, variables: { r: asked.requestId, l: asked.listenToken } },
        {
          next: (r) => {
            const state = (r.data as { magicLinkStatus?: { state: string } } | undefined)?.magicLinkStatus?.state;
            if (r.errors) failure = r.errors;
            if (state) arrived.set(state, performance.now());
          },
          error: (e) => (failure = e),
          complete: () => {},
        },
      );
      const heard = (state: string) =>
        pollFor(() => {
          if (failure) throw new Error(`subscription failed: ${JSON.stringify(failure)}`);
          return arrived.get(state);
        }, state);
      await heard("PENDING");
      const token = await linkIn(smtp, email);
      const page = await fetch(`${b.url}/auth/magic-link?token=${token}`);
      await page.text();
      await heard("OPENED");
      const t0 = performance.now();
      const here = (await gql<{ consumeMagicLink: { status: string } }>(b.url, CONSUME_LINK, { i: { token, matchCode: asked.matchCode } })).consumeMagicLink;
      times.push((await heard("CONFIRMED")) - t0);
      if (here.status !== "AUTHENTICATED") throw new Error(`sign-in ${i} was not authenticated on B`);
      stop();
    }
  } finally {
    await ws.dispose();
  }
  return times;
}

/** In a child process: one socket per waiting device, each with one subscription; "ready" once every one heard PENDING. */
function runClients(): void {
  process.once("message", async (msg: { url: string; requests: Array<[string, string]> }) => {
    const clients: Client[] = [];
    const errors: string[] = [];
    let pending = 0;
    // Heard anything after PENDING, or ended: no longer simply waiting.
    let ended = 0;
    for (let g = 0; g < msg.requests.length; g += 100) {
      await Promise.all(
        msg.requests.slice(g, g + 100).map(
          ([r, l]) =>
            new Promise<void>((resolve) => {
              const ws = createClient({ url: msg.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: (e) => errors.push(String(e)) });
              clients.push(ws);
              let first = true;
              ws.subscribe(
                { query: LINK_STATUS, variables: { r, l } },
                {
                  next: (res) => {
                    if (!first) {
                      ended++;
                      return;
                    }
                    first = false;
                    if (res.errors) errors.push(JSON.stringify(res.errors));
                    else pending++;
                    resolve();
                  },
                  error: (e) => {
                    if (!first) ended++;
                    errors.push(e instanceof Error ? e.message : JSON.stringify(e));
                    resolve();
                  },
                  complete: () => {
                    if (!first) ended++;
                    resolve();
                  },
                },
              );
            }),
        ),
      );
    }
    process.send!({ pending, errors: errors.slice(0, 5) });
    process.on("message", async (m) => {
      if (m === "count") return void process.send!({ open: pending - ended, errors: errors.slice(-5) });
      await Promise.all(clients.map((c) => c.dispose()));
      process.send!("closed", () => process.exit(0));
    });
  });
}

/** Link requests asked on A; their subscriptions opened on C (a fresh instance, so earlier load is not in its RSS). */
const sumCommitted = (m: MemoryReading) => Object.values(m.spaces).reduce((sum, s) => sum + s.committed, 0);

/** What bench/event-loop.probe answers to "memory:read". */
interface MemoryReading {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, { committed: number; used: number }>;
}

async function waitingSubscriptionsRss(
  a: Proc,
  c: Proc,
  smtp: TestSmtpServer,
  n: number,
): Promise<{ before: number; after: number; settled: number; heapBefore: MemoryReading; heapAfter: MemoryReading; heapSettled: MemoryReading }> {
  const requests: Array<[string, string]> = [];
  const mailsBefore = smtp.messages.length;
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) => gql<{ requestMagicLink: { requestId: string; listenToken: string } }>(a.url, REQUEST_LINK, { i: { email: `mem-${i + j}-${randomUUID()}@bench.test` } })),
    );
    for (const b of batch) requests.push([b.requestMagicLink.requestId, b.requestMagicLink.listenToken]);
  }
  // The delivery queue drained, so its work is not in the figure.
  await pollFor(() => (smtp.messages.length >= mailsBefore + n ? true : undefined), "the link emails", 300_000);
  await new Promise((r) => setTimeout(r, 1000));
  const before = rssOf(c.child.pid!);
  const heapBefore = await ask<MemoryReading>(c.child, "memory:read");
  const child = fork(__filename, ["clients"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    child.send({ url: c.url, requests });
    const ready = await new Promise<{ pending: number; errors: string[] }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { pending: number; errors: string[] }));
      child.once("exit", (code) => reject(new Error(`the client process exited with ${code}`)));
    });
    if (ready.pending !== n) throw new Error(`${ready.pending}/${n} subscriptions got PENDING: ${ready.errors.join("; ")}`);
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssOf(c.child.pid!);
    const heapAfter = await ask<MemoryReading>(c.child, "memory:read");
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
    const settled = rssOf(c.child.pid!);
    const heapSettled = await ask<MemoryReading>(c.child, "memory:read");
    // Still every one waiting: none was dropped while the figure settled.
    const still = await ask<{ open: number; errors: string[] }>(child, "count");
    if (still.open !== n) throw new Error(`${still.open}/${n} subscriptions still open after ${SETTLE_SECONDS} s: ${still.errors.join("; ")}`);
    await ask(child, "close");
    return { before, after, settled, heapBefore, heapAfter, heapSettled };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

// ---------------------------------------------------------------------------------------

/** Progress on stderr; the table alone on stdout. */
const note = (what: string) => process.stderr.write(`bench: ${what}\n`);


async function main(): Promise<void> {
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (!DATABASE_URL || !REDIS_URL) throw new Error("set DATABASE_URL and REDIS_URL: the benchmark runs on real Postgres and Redis");
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npx tsc -p tsconfig.json`);
  startWatchdog(WATCHDOG_MS);

  const db = (await createTestDatabaseUrl(DATABASE_URL))!;
  const smtp = await startSmtpServer();
  const prefix = `bench:${randomUUID()}:`;
  const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const env: Record<string, string> = {
    NODE_ENV: "production",
    PUBLIC_URL: "http://gateway.bench.test",
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    SMTP_URL: smtp.url,
    JWT_PRIVATE_KEY: pem,
    TOTP_ENCRYPTION_KEY: generateKeyEntry(),
    SMS_ENABLED: "false",
    SHUTDOWN_READINESS_DELAY_SECONDS: "0",
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "bench-data-")),
    // Every benchmark client is 127.0.0.1: limits sized for a load test, still counted.
    OTP_RESEND_COOLDOWN_SECONDS: "0",
    OTP_MAX_REQUESTS_PER_IP_PER_HOUR: "100000",
    OTP_MAX_PER_DESTINATION_PER_HOUR: "1000",
    LOGIN_MAX_FAILURES: "1000",
    MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0",
    MAGIC_LINK_MAX_REQUESTS_PER_IP_PER_HOUR: "100000",
    WS_MAX_SUBSCRIPTIONS_PER_IP: String(SUBSCRIPTIONS * 2 + 100),
    WS_MAX_CONNECTIONS_PER_IP: String(SUBSCRIPTIONS * 2 + 100),
    ...(SPLIT_WORKER && { DELIVERY_WORKER: "false" }),
  };
  const procs: Proc[] = [];
  const store = createRedisStore({ url: REDIS_URL, keyPrefix: prefix });
  try {
    const reference = await spawnServer("reference", [path.join(__dirname, "reference.server.js")], {}, jsonPort);
    procs.push(reference);
    note("servers up, warming");
    const a = await startGateway("gateway-a", env);
    procs.push(a);
    const gatewayPids = [a.child.pid!];
    if (SPLIT_WORKER) {
      const worker = await spawnServer("worker", [WORKER_MAIN], env, (line) => (line.includes('"delivery worker ready"') ? 1 : undefined));
      procs.push(worker);
      gatewayPids.push(worker.child.pid!);
    }

    // Challenges made as the gateway makes them (its key, its Redis keys), so each verifyOtp consumes a fresh one.
    const challenges = new OtpChallengeStore(store, systemClock, deriveSecret(signingKeyFromPem(pem), "otp-challenge"));
    const CODE = "123456";
    const prepare = async (count: number) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i += 200) {
        const batch = Array.from({ length: Math.min(200, count - i) }, () => randomUUID());
        await Promise.all(batch.map((id) => challenges.create({ challengeId: id, code: CODE, purpose: "SIGN_IN", channel: "EMAIL", destination: `${id}@bench.test`, userId: null, ttlSeconds: 600, maxAttempts: 5 })));
        ids.push(...batch);
      }
      return ids;
    };
    const VERIFY = "mutation($i:VerifyOtpInput!){verifyOtp(input:$i){status tokens{accessToken refreshToken}}}";
    const signIn = async (challengeId: string) =>
      (await gql<{ verifyOtp: { tokens: { accessToken: string; refreshToken: string } } }>(a.url, VERIFY, { i: { challengeId, code: CODE } })).verifyOtp.tokens;

    // Warm both servers: compiled paths, pools, prepared statements.
    const warm = await prepare(400);
    await load(reference.url, () => '{"query":"{hello}"}', { seconds: 2 });
    await load(a.url, () => JSON.stringify({ query: VERIFY, variables: { i: { challengeId: warm.pop(), code: CODE } } }), { seconds: 1 });

    const rows: Array<{ name: string; gw: Figures; ref: Figures; target: number }> = [];
    const hello = () => '{"query":"{hello}"}';
    const withReference = async (name: string, target: number, gateway: () => Promise<Figures>) => {
      const gw = await gateway();
      const ref = await load(reference.url, hello, { pids: [reference.child.pid!] });
      rows.push({ name, gw, ref, target });
    };

    let n = 0;
    if (wants("otp")) {
      note("requestOtp");
      await withReference("requestOtp (email, sign-in)", 0.5, () =>
        load(a.url, () => JSON.stringify({ query: "mutation($i:RequestOtpInput!){requestOtp(input:$i){challengeId}}", variables: { i: { channel: "EMAIL", destination: `b${n++}@bench.test` } } }), { pids: gatewayPids }),
      );

      note("verifyOtp");
      const forVerify = await prepare(Math.ceil(rows[0].gw.rps * DURATION_S * 1.2) + 1000);
      await withReference("verifyOtp (creates user + session, signs a JWT)", 0.3, () =>
        load(a.url, () => JSON.stringify({ query: VERIFY, variables: { i: { challengeId: forVerify.pop(), code: CODE } } }), { pids: gatewayPids }),
      );
    }

    // Refresh tokens in rotation: each answer's new token goes back to the pool.
    const sessions = await prepare(CONNECTIONS * 2);
    const pool = await Promise.all(sessions.map(async (id) => (await signIn(id)).refreshToken));
    const accessToken = (await signIn((await prepare(1))[0])).accessToken;
    if (wants("refresh")) {
      note("refreshTokens");
      await withReference("refreshTokens (rotation, reuse check, new JWT)", 0.4, () =>
        load(a.url, () => JSON.stringify({ query: "mutation($t:String!){refreshTokens(refreshToken:$t){accessToken refreshToken}}", variables: { t: pool.shift() } }), {
          onBody: (text) => {
            const next = /"refreshToken":"([^"]+)"/.exec(text)?.[1];
            if (next) pool.push(next);
          },
          pids: gatewayPids,
        }),
      );
    }

    if (wants("me")) {
      note("me");
      await withReference("`me { id email }` with a bearer token", 0.7, () =>
        load(a.url, () => '{"query":"{me{id email}}"}', { headers: { authorization: `Bearer ${accessToken}` }, pids: gatewayPids }),
      );
    }

    let storm: { result: Figures; p99: number } | undefined;
    let argon2 = 0;
    let loop: EventLoopDelay | undefined;
    if (wants("login")) {
      note("login storm");
      // Login storm: what argon2id can do here at our parameters (a process of its own, as many in flight), then login.
      const email = `storm-${randomUUID()}@bench.test`;
      const password = "correct horse battery staple";
      await gql(a.url, "mutation($i:SignUpInput!){signUp(input:$i){status}}", { i: { email, password } });
      argon2 = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(__dirname, "argon2.baseline.js"), String(CONNECTIONS), String(DURATION_S)], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("close", (code) => (code === 0 ? resolve((JSON.parse(out) as { perSecond: number }).perSecond) : reject(new Error(`argon2 baseline exited ${code}`))));
      });
      await ask(a.child, "event-loop:reset");
      storm = await healthzDuring(a.url, load(a.url, () => JSON.stringify({ query: "mutation($i:LoginInput!){login(input:$i){status}}", variables: { i: { email, password } } })));
      loop = await ask<EventLoopDelay>(a.child, "event-loop:read");
    }

    let confirmed: number[] | undefined;
    if (wants("magic-link")) {
      note("magic links across two instances");
      // Magic links: a second instance of the same deployment.
      const b = await startGateway("gateway-b", env);
      procs.push(b);
      await clickToConfirmed(10, a, b, smtp);
      confirmed = await clickToConfirmed(LATENCY_N, a, b, smtp);
    }

    let memory: Awaited<ReturnType<typeof waitingSubscriptionsRss>> | undefined;
    if (wants("subscriptions")) {
      note("waiting subscriptions");
      const c = await startGateway("gateway-c", env);
      procs.push(c);
      memory = await waitingSubscriptionsRss(a, c, smtp, SUBSCRIPTIONS);
    }

    // ------------------------------------------------------------------------------------
    const cpu = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}`;
    console.log(`\n${CONNECTIONS} connections, ${DURATION_S} s per figure; gateway: node dist/src/main.js (NODE_ENV=production${SPLIT_WORKER ? ", DELIVERY_WORKER=false, and one node dist/src/worker.js sending" : ""}), Postgres, Redis, SMTP; Node ${process.version}; ${cpu}`);
    console.log("reference: bare Apollo Server 5 + Express 5, `{ hello }`, measured right after each gateway figure\n");
    const table: string[] = [];
    table.push("| operation | gateway req/s | p99 ms | reference req/s | p99 ms | ratio | target |");
    table.push("|---|---:|---:|---:|---:|---:|---|");
    const bad = (f: Figures) => (f.errors || f.non2xx || f.gqlErrors ? ` (errors ${f.errors}, non-2xx ${f.non2xx}, GraphQL errors ${f.gqlErrors})` : "");
    for (const r of rows) {
      const ratio = r.gw.rps / r.ref.rps;
      table.push(`| ${r.name}${bad(r.gw)} | ${r.gw.rps.toFixed(0)} | ${r.gw.p99} | ${r.ref.rps.toFixed(0)} | ${r.ref.p99} | ${ratio.toFixed(2)} | ≥ ${r.target} ${ratio >= r.target ? "✓" : "✗"} |`);
    }
    if (storm && loop) {
      const loginRatio = storm.result.rps / argon2;
      table.push(
        `| login vs parallel argon2id verifications${bad(storm.result)} | ${storm.result.rps.toFixed(0)} | ${storm.result.p99} | ${argon2.toFixed(0)} argon2id/s | | ${loginRatio.toFixed(2)} | ≥ 0.85 ${loginRatio >= 0.85 ? "✓" : "✗"} |`,
      );
      table.push(
        `| event-loop delay during the login storm (p99; /healthz p99 ${storm.p99.toFixed(1)} ms) | | ${loop.p99.toFixed(1)} | | | | < 10 ms ${loop.p99 < 10 ? "✓" : "✗"} |`,
      );
    }
    if (confirmed) {
      const p99 = pct(confirmed, 99);
      table.push(`| magic-link click → CONFIRMED on the other instance (n=${confirmed.length}, p50 ${pct(confirmed, 50).toFixed(1)}) | | ${p99.toFixed(1)} | | | | < 20 ms ${p99 < 20 ? "✓" : "✗"} |`);
    }
    if (memory) {
      const burst = memory.after - memory.before;
      const grown = memory.settled - memory.before;
      const mb = (x: number) => (x / 1024 / 1024).toFixed(0);
      table.push(
        `| ${SUBSCRIPTIONS.toLocaleString("en")} waiting subscriptions (one socket each) on a fresh instance: RSS grew, after ${SETTLE_SECONDS} s waiting (1 s after set-up: ${mb(burst)} MB) | ${mb(grown)} MB (${(grown / SUBSCRIPTIONS / 1024).toFixed(1)} KiB each; ${mb(memory.before)} → ${mb(memory.settled)} MB) | | | | | < 100 MB ${grown < 100 * 1024 * 1024 ? "✓" : "✗"} |`,
      );
    }
    console.log(table.join("\n"));
    if (memory) {
      const mib = (x: number) => (x / 1024 / 1024).toFixed(1);
      const where = (when: string, b: MemoryReading, a: MemoryReading) => {
        const space = (name: string) => `${mib(a.spaces[name].committed - b.spaces[name].committed)} committed, ${mib(a.spaces[name].used - b.spaces[name].used)} used`;
        return (
          `${when}: V8 heap used ${mib(a.heapUsed - b.heapUsed)} (old space ${space("old_space")}; new space ${space("new_space")}), ` +
          `outside the heap ${mib(a.rss - b.rss - (sumCommitted(a) - sumCommitted(b)))}`
        );
      };
      console.log(`\nWaiting subscriptions, where the RSS went (MiB, growth) ${where("1 s after set-up", memory.heapBefore, memory.heapAfter)}; ${where(`after ${SETTLE_SECONDS} s`, memory.heapBefore, memory.heapSettled)}`);
    }
    if (rows.length) {
      console.log("\nCPU per answer (ms, all of the process's threads; steadier than req/s when the machine is shared):");
      for (const r of rows) console.log(`  ${r.name}: gateway ${r.gw.cpuMs?.toFixed(2)}, reference ${r.ref.cpuMs?.toFixed(2)}`);
    }
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await store.close();
    await smtp.close();
    await db.drop();
    await deleteKeysUnder(REDIS_URL, prefix);
    fs.rmSync(env.DATA_DIR, { recursive: true, force: true });
  }
}

runBench(main, runClients);
