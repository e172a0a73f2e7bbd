import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findChromium } from "../e2e/chromium";
import { freePort } from "./ports";
import { MissingRedisCluster, startLocalRedisCluster, type LocalRedisCluster } from "./redis-cluster";

/** What global-teardown needs; jest runs both in the same process, so a global carries it. */
export interface ThrowawayRedis {
  child: ChildProcess;
  dir: string;
}

export const THROWAWAY_REDIS = Symbol.for("graphql-auth-gateway.throwaway-redis");
export const THROWAWAY_CLUSTER = Symbol.for("graphql-auth-gateway.throwaway-redis-cluster");

type WithThrowawayRedis = typeof globalThis & { [THROWAWAY_REDIS]?: ThrowawayRedis; [THROWAWAY_CLUSTER]?: LocalRedisCluster };

const READY_TIMEOUT_MS = 5_000;

/**
 * Tests run against a real Redis, never a skip: use REDIS_URL when it is set, otherwise
 * start a throwaway redis-server for this run. Workers inherit process.env.REDIS_URL.
 */
export default async function globalSetup(): Promise<void> {
  await prepareChromium();
  await prepareRedisCluster();
  if (process.env.REDIS_URL) return;

  const dir = await mkdtemp(join(tmpdir(), "jest-redis-"));
  let lastError: unknown;
  // Another process can take the free port before redis-server binds it; try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = startRedis(port, dir);
    try {
      await untilAnswersPing(child, port, dir);
    } catch (error) {
      lastError = error;
      child.kill("SIGKILL");
      if (error instanceof MissingRedisServer) break;
      continue;
    }
    // If jest dies before its teardown, do not leave the server running.
    process.once("exit", () => child.kill("SIGKILL"));
    (globalThis as WithThrowawayRedis)[THROWAWAY_REDIS] = { child, dir };
    process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
    return;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

/**
 * Unpacks the bundled Chromium once, before workers start (two E2E files unpacking it at
 * the same time would race), and hands its path to them. Not found: the E2E tests say why.
 */
async function prepareChromium(): Promise<void> {
  try {
    process.env.CHROMIUM_PATH = await findChromium();
  } catch {
    // Unit and integration tests need no browser; launchChromium repeats the error.
  }
}

/**
 * One Redis Cluster for the whole run (the *.cluster.test.ts suites share it, each under
 * its own key prefix): TEST_REDIS_CLUSTER_NODES when set, else three local masters. A
 * name of its own, not REDIS_CLUSTER_NODES, so no gateway picks it up from the
 * environment. Without redis-server the cluster suites fail and say why; the rest run.
 */
async function prepareRedisCluster(): Promise<void> {
  if (process.env.TEST_REDIS_CLUSTER_NODES) return;
  try {
    const cluster = await startLocalRedisCluster();
    (globalThis as WithThrowawayRedis)[THROWAWAY_CLUSTER] = cluster;
    process.env.TEST_REDIS_CLUSTER_NODES = cluster.nodes;
  } catch (error) {
    if (!(error instanceof MissingRedisCluster)) throw error;
    process.env.TEST_REDIS_CLUSTER_MISSING = error.message;
  }
}

class MissingRedisServer extends Error {
  constructor() {
    super("npm test needs Redis: set REDIS_URL or install redis-server");
  }
}

function startRedis(port: number, dir: string): ChildProcess {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  // Logs go to a file, not a pipe nobody drains; it is read back only to explain a failure.
  args.push("--dir", dir, "--logfile", join(dir, `redis-${port}.log`));
  return spawn("redis-server", args, { stdio: "ignore" });
}

async function untilAnswersPing(child: ChildProcess, port: number, dir: string): Promise<void> {
  let failure: Error | undefined;
  child.once("error", (error: NodeJS.ErrnoException) => {
    failure = error.code === "ENOENT" ? new MissingRedisServer() : error;
  });
  child.once("exit", (code, signal) => {
    failure ??= new Error(`redis-server exited (${signal ?? code}) before answering PING`);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (failure) break;
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (failure instanceof MissingRedisServer) throw failure;
  const log = await readFile(join(dir, `redis-${port}.log`), "utf8").catch(() => "");
  const reason = failure?.message ?? `redis-server did not answer PING on port ${port} in ${READY_TIMEOUT_MS} ms`;
  throw new Error(`${reason}\n${log.trim().split("\n").slice(-5).join("\n")}`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      // "-LOADING" and the like mean not ready yet.
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"));
    });
  });
}
