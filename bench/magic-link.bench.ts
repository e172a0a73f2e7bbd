/**
 * Magic links across two gateway instances in this process, sharing one Redis (one key
 * prefix) and one database, as two instances of a deployment do:
 *  (a) click-to-notification latency: a device waits on A, the link is opened and then
 *      confirmed on B; the time until A's subscriber hears OPENED / CONFIRMED. Baselines in
 *      the same run: confirming on A itself, and a bare Redis PUBLISH → message.
 *  (b) memory on A per waiting subscription, with 5,000 open at once (after GC), as one
 *      socket per device and as 10 subscriptions per socket. The clients run in a child
 *      process, so A's figures hold only the server side.
 *
 *   npx tsc -p tsconfig.json && REDIS_URL=redis://127.0.0.1:6379 node --expose-gc dist/bench/magic-link.bench.js
 *   (DATABASE_URL too, for Postgres; BENCH_LATENCY_N and BENCH_SUBSCRIPTIONS change the sizes)
 */
import "reflect-metadata";
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { ConsumeMagicLinkDocument, MagicLinkStatusDocument, RequestMagicLinkDocument } from "../test/__generated__/graphql";
import { startTestGateway, type TestGateway } from "../test/helpers/gateway";
import { pct, pollFor as pollUntil, runBench, startWatchdog } from "./bench.shared";

const LATENCY_N = Number(process.env.BENCH_LATENCY_N ?? 200);
const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 5000);
const PER_CONNECTION_CAP = 10;
const EVENT_TIMEOUT_MS = 5_000;
const WATCHDOG_MS = 10 * 60_000;

// ---------------------------------------------------------------------------------------
// Two instances of one deployment

/** What the measurements need to know of the deployment the two instances form. */
interface Deployment {
  redisUrl: string;
  prefix: string;
}

/** One gateway instance (test/helpers/gateway.ts builds it; a peer shares Redis, DB and keys). */
type Instance = TestGateway;

async function gql<TData, TVars>(url: string, doc: TypedDocumentNode<TData, TVars>, variables: TVars) {
  const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: print(doc), variables }) });
  const body = (await res.json()) as { data?: TData; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length) throw new Error(`${body.errors[0].extensions?.code ?? ""} ${body.errors[0].message}`);
  return body.data!;
}

const pollFor = <T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = EVENT_TIMEOUT_MS): Promise<T> => pollUntil(check, what, timeoutMs);

// ---------------------------------------------------------------------------------------
// (a) latency

interface Watch {
  /** performance.now() when the event with `state` arrived (bounded wait). */
  at(state: string): Promise<number>;
  auth(): { status: string } | null;
}

function watch(ws: Client, requestId: string, listenToken: string): Watch {
  const arrived = new Map<string, number>();
  let auth: { status: string } | null = null;
  let failure: unknown;
  ws.subscribe(
    { query: print(MagicLinkStatusDocument), variables: { requestId, listenToken } },
    {
      next: (r) => {
        const now = performance.now();
        if (r.errors) failure = r.errors;
        const e = (r.data as { magicLinkStatus?: { state: string; auth: { status: string } | null } } | undefined)?.magicLinkStatus;
        if (e) {
          arrived.set(e.state, now);
          auth ??= e.auth;
        }
      },
      error: (e) => (failure = e),
      complete: () => {},
    },
  );
  return {
    at: (state) =>
      pollFor(() => {
        if (failure) throw new Error(`subscription failed: ${JSON.stringify(failure)}`);
        return arrived.get(state);
      }, `${state} on the waiting device`),
    auth: () => auth,
  };
}

function linkFor(instances: Instance[], email: string): Promise<string> {
  // Either instance's delivery worker may send it: one queue in the shared Redis.
  return pollFor(() => {
    for (const i of instances) {
      const token = i.outbox?.list().find((m) => m.to === email)?.text.match(/token=([\w-]+)/)?.[1];
      if (token) return token;
    }
    return undefined;
  }, `the link email to ${email}`);
}

interface LatencyFigures {
  opened: number[];
  confirmed: number[];
  consumeResponse: number[];
}

/** n sequential sign-ins: wait on `waitOn`, open and confirm on `clickOn`. */
async function clickToNotification(n: number, waitOn: Instance, clickOn: Instance, all: Instance[], label: string): Promise<LatencyFigures> {
  const ws = createClient({ url: waitOn.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
  const figures: LatencyFigures = { opened: [], confirmed: [], consumeResponse: [] };
  try {
    for (let i = 0; i < n; i++) {
      const email = `lat-${label}-${i}-${randomUUID()}@bench.test`;
      const asked = (await gql(waitOn.url, RequestMagicLinkDocument, { input: { email } })).requestMagicLink;
      const device = watch(ws, asked.requestId, asked.listenToken);
      await device.at("PENDING");
      const token = await linkFor(all, email);

      const t0 = performance.now();
      const page = await fetch(`${clickOn.url}/auth/magic-link?token=${token}`);
      await page.text();
      if (page.status !== 200) throw new Error(`link page answered ${page.status}`);
      figures.opened.push((await device.at("OPENED")) - t0);

      const t1 = performance.now();
      const here = (await gql(clickOn.url, ConsumeMagicLinkDocument, { input: { token, matchCode: asked.matchCode } })).consumeMagicLink;
      figures.consumeResponse.push(performance.now() - t1);
      figures.confirmed.push((await device.at("CONFIRMED")) - t1);
      if (here.status !== "AUTHENTICATED" || device.auth()?.status !== "AUTHENTICATED") throw new Error(`sign-in ${i} did not authenticate both devices`);
    }
  } finally {
    await ws.dispose();
  }
  return figures;
}

/** The floor: one Redis PUBLISH until a subscribed connection receives it. */
async function bareRedisRoundTrip(redisUrl: string, n: number): Promise<number[]> {
  const pub = new Redis(redisUrl);
  const sub = new Redis(redisUrl);
  const channel = `bench:${randomUUID()}`;
  let received: (() => void) | undefined;
  sub.on("message", () => received?.());
  await sub.subscribe(channel);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const heard = new Promise<void>((resolve) => (received = resolve));
    const t0 = performance.now();
    await pub.publish(channel, JSON.stringify({ requestId: randomUUID(), state: "CONFIRMED" }));
    await heard;
    times.push(performance.now() - t0);
  }
  await Promise.all([pub.quit(), sub.quit()]);
  return times;
}

// ---------------------------------------------------------------------------------------
// (b) memory per waiting subscription

interface ClientsReady {
  kind: "ready";
  pending: number;
  errors: string[];
  ms: number;
}

/** In the child: open the subscriptions, report when every one has its first event (PENDING). */
function runClients(): void {
  process.once("message", async (msg: { url: string; requests: Array<[string, string]>; perConnection: number }) => {
    const started = performance.now();
    const clients: Client[] = [];
    const errors: string[] = [];
    let pending = 0;
    const groups: Array<Array<[string, string]>> = [];
    for (let i = 0; i < msg.requests.length; i += msg.perConnection) groups.push(msg.requests.slice(i, i + msg.perConnection));
    // A hundred connections at a time, as devices arrive, not all in one burst.
    for (let g = 0; g < groups.length; g += 100) {
      await Promise.all(
        groups.slice(g, g + 100).map((group) => {
          const ws = createClient({ url: msg.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: (e) => errors.push(String(e)) });
          clients.push(ws);
          return Promise.all(
            group.map(
              ([requestId, listenToken]) =>
                new Promise<void>((resolve) => {
                  let first = true;
                  ws.subscribe(
                    { query: print(MagicLinkStatusDocument), variables: { requestId, listenToken } },
                    {
                      next: (r) => {
                        if (!first) return;
                        first = false;
                        if (r.errors) errors.push(JSON.stringify(r.errors));
                        else if ((r.data as { magicLinkStatus: { state: string } }).magicLinkStatus.state === "PENDING") pending++;
                        resolve();
                      },
                      error: (e) => {
                        errors.push(e instanceof Error ? e.message : JSON.stringify(e));
                        resolve();
                      },
                      complete: () => resolve(),
                    },
                  );
                }),
            ),
          );
        }),
      );
    }
    process.send!({ kind: "ready", pending, errors: errors.slice(0, 5), ms: performance.now() - started } satisfies ClientsReady);
    process.once("message", async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      process.send!({ kind: "closed" }, () => process.exit(0));
    });
  });
}

function nextMessage<T>(child: ChildProcess, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the client process did not answer in ${timeoutMs} ms`)), timeoutMs);
    child.once("message", (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    child.once("exit", (code) => reject(new Error(`the client process exited with ${code}`)));
  });
}

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    global.gc!();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage();
}

interface MemoryFigures {
  label: string;
  sockets: number;
  subscriptions: number;
  openMs: number;
  heapPerSub: number;
  rssPerSub: number;
  redisPerSub: number;
  /** Redis channels A still listens on this long after every client left (should be 0). */
  heldAfterDisconnect: number;
}

const RELEASE_WAIT_MS = 10_000;

/** BENCH_HEAP_SNAPSHOT=<dir>: heap snapshots around each memory round, to see what a subscription holds. */
function snapshot(name: string): void {
  const dir = process.env.BENCH_HEAP_SNAPSHOT;
  if (dir) v8.writeHeapSnapshot(path.join(dir, `${name}.heapsnapshot`));
}

async function memoryPerSubscription(a: Instance, d: Deployment, n: number, perConnection: number): Promise<MemoryFigures> {
  const requests = await pendingRequests(a, d, n);
  const redis = new Redis(d.redisUrl);
  // Listeners on A's bus (one pattern subscription in Redis carries them all).
  const channels = async () => a.bus.listenerCount();
  const redisMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]);
  try {
    // Whatever an earlier round left subscribed is part of the baseline.
    const channelsBefore = await channels();
    const before = await settledMemory();
    snapshot(`before-${perConnection}`);
    const redisBefore = await redisMemory();
    const child = fork(__filename, ["clients"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    try {
      child.send({ url: a.url, requests, perConnection });
      const ready = await nextMessage<ClientsReady>(child, 180_000);
      if (ready.errors.length || ready.pending !== requests.length) {
        throw new Error(`${ready.pending}/${requests.length} subscriptions got PENDING; errors: ${ready.errors.join("; ")}`);
      }
      // Each subscription listens on its own topic.
      await pollFor(async () => ((await channels()) >= channelsBefore + n ? true : undefined), `${n} more listeners`, 30_000);
      const after = await settledMemory();
      snapshot(`after-${perConnection}`);
      const redisAfter = await redisMemory();
      child.send("close");
      await nextMessage(child, 60_000);
      // Reported, not awaited forever: a subscription A keeps after its client left is a finding.
      await pollFor(async () => ((await channels()) <= channelsBefore ? true : undefined), "", RELEASE_WAIT_MS).catch(() => undefined);
      const heldAfterDisconnect = (await channels()) - channelsBefore;
      return {
        label: perConnection === 1 ? "1 subscription per socket" : `${perConnection} subscriptions per socket`,
        sockets: Math.ceil(n / perConnection),
        subscriptions: n,
        openMs: ready.ms,
        heapPerSub: (after.heapUsed - before.heapUsed) / n,
        rssPerSub: (after.rss - before.rss) / n,
        redisPerSub: (redisAfter - redisBefore) / n,
        heldAfterDisconnect,
      };
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  } finally {
    await redis.quit();
  }
}

/** Pending link requests on A, with the delivery queue drained so its work does not blur the figures. */
async function pendingRequests(a: Instance, d: Deployment, n: number): Promise<Array<[string, string]>> {
  const requests: Array<[string, string]> = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) => gql(a.url, RequestMagicLinkDocument, { input: { email: `mem-${i + j}-${randomUUID()}@bench.test` } })),
    );
    for (const b of batch) requests.push([b.requestMagicLink.requestId, b.requestMagicLink.listenToken]);
  }
  const redis = new Redis(d.redisUrl);
  const queue = `{${d.prefix}delivery}:outgoing-messages`;
  try {
    await pollFor(async () => ((await redis.llen(`${queue}:wait`)) + (await redis.llen(`${queue}:active`)) === 0 ? true : undefined), "the delivery queue to drain", 120_000);
  } finally {
    await redis.quit();
  }
  return requests;
}

// ---------------------------------------------------------------------------------------

const ms = (x: number) => x.toFixed(2).padStart(7);
const kib = (bytes: number) => (bytes / 1024).toFixed(2).padStart(8);

async function main(): Promise<void> {
  if (!process.env.REDIS_URL) throw new Error("set REDIS_URL: instances share Redis for links and pub/sub");
  if (typeof global.gc !== "function") throw new Error("run node with --expose-gc: memory is measured after a full GC");
  startWatchdog(WATCHDOG_MS);

  const env = {
    LOG_LEVEL: "warn",
    PUBLIC_URL: "http://gateway.bench.test",
    MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0",
    MAGIC_LINK_MAX_REQUESTS_PER_IP_PER_HOUR: "100000",
    WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION_CAP),
    // Every benchmark client comes from 127.0.0.1; room for both rounds even if the first is not released.
    WS_MAX_SUBSCRIPTIONS_PER_IP: String(Math.max(100, SUBSCRIPTIONS * 3)),
    WS_MAX_CONNECTIONS_PER_IP: String(Math.max(100, SUBSCRIPTIONS * 3)),
  };
  // Warnings and errors also to stderr: a benchmark that hides failures measures nothing.
  const a = await startTestGateway({ env, logDestination: process.stderr });
  const b = await startTestGateway({ env, logDestination: process.stderr, peerOf: a });
  const d: Deployment = { redisUrl: process.env.REDIS_URL, prefix: a.keyPrefix };
  const both = [a, b];
  try {
    // A few sign-ins first, so compiled code paths and pools are warm.
    await clickToNotification(10, a, b, both, "warm");
    const cross = await clickToNotification(LATENCY_N, a, b, both, "cross");
    const same = await clickToNotification(Math.ceil(LATENCY_N / 2), a, a, both, "same");
    const bare = await bareRedisRoundTrip(d.redisUrl, LATENCY_N);

    const memory = [await memoryPerSubscription(a, d, SUBSCRIPTIONS, 1), await memoryPerSubscription(a, d, SUBSCRIPTIONS, PER_CONNECTION_CAP)];

    console.log(`\nMagic links across two instances in one process; Redis ${d.redisUrl}, ${a.db.url ? "Postgres" : "PGlite (in memory)"}, Node ${process.version}`);
    console.log(`\n(a) click-to-notification, sequential, ms               n      p50      p99      max`);
    const row = (name: string, xs: number[]) => console.log(`${name.padEnd(52)} ${String(xs.length).padStart(5)}  ${ms(pct(xs, 50))}  ${ms(pct(xs, 99))}  ${ms(Math.max(...xs))}`);
    row("open link on B    -> OPENED on A", cross.opened);
    row("consume on B      -> CONFIRMED (with tokens) on A", cross.confirmed);
    row("consume on B      -> its own HTTP response", cross.consumeResponse);
    row("consume on A      -> CONFIRMED on A (same instance)", same.confirmed);
    row("bare Redis PUBLISH -> message (floor)", bare);

    console.log(`\n(b) waiting subscriptions on A, after GC   sockets   subs  open s  heap KiB/sub  RSS KiB/sub  Redis KiB/sub  held ${RELEASE_WAIT_MS / 1000} s after disconnect`);
    for (const m of memory) {
      console.log(
        `${m.label.padEnd(39)} ${String(m.sockets).padStart(8)} ${String(m.subscriptions).padStart(6)} ${(m.openMs / 1000).toFixed(1).padStart(7)}  ${kib(m.heapPerSub).padStart(12)} ${kib(m.rssPerSub).padStart(12)} ${kib(m.redisPerSub).padStart(14)}  ${String(m.heldAfterDisconnect).padStart(8)}`,
      );
    }
    console.log("(clients run in a child process: A's heap and RSS hold only the server side of each socket and subscription;");
    console.log(" \"held\" counts Redis channels A still listens on after every client of that round disconnected)");
  } finally {
    await b.close();
    await a.close();
  }
}

runBench(main, runClients);
