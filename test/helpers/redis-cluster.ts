import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Masters in the test cluster: the fewest redis-cli --cluster create accepts. */
const MASTERS = 3;
const READY_TIMEOUT_MS = 10_000;

/** A local Redis Cluster for this test run (global-setup starts it, global-teardown stops it). */
export interface LocalRedisCluster {
  /** host:port of each node, comma-separated: what TEST_REDIS_CLUSTER_NODES holds. */
  nodes: string;
  /** Each node's redis-server, in the order of `nodes`. */
  children: ChildProcess[];
  dir: string;
}

export class MissingRedisCluster extends Error {}

/**
 * Starts three masters (each with its own directory under a tmp dir), and
 * `replicasPerMaster` replicas of each, joins them with `redis-cli --cluster create`, and
 * waits for `cluster_state:ok` on all of them. The ports are random, so concurrent runs on
 * one machine do not meet.
 */
export async function startLocalRedisCluster(replicasPerMaster = 0): Promise<LocalRedisCluster> {
  await Promise.all(
    ["redis-server", "redis-cli"].map((tool) =>
      run(tool, ["--version"]).catch(() => {
        throw new MissingRedisCluster(`the Redis Cluster suites need ${tool} on PATH, or TEST_REDIS_CLUSTER_NODES naming a running cluster`);
      }),
    ),
  );
  const dir = await mkdtemp(join(tmpdir(), "jest-redis-cluster-"));
  const children: ChildProcess[] = [];
  try {
    const ports = await clusterPorts(MASTERS * (1 + replicasPerMaster));
    for (const port of ports) children.push(await startNode(port, dir));
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await run("redis-cli", ["--cluster", "create", ...nodes, "--cluster-replicas", String(replicasPerMaster), "--cluster-yes"], { timeout: READY_TIMEOUT_MS });
    await untilClusterOk(ports);
    if (replicasPerMaster > 0) await untilReplicasSynced(ports);
    return { nodes: nodes.join(","), children, dir };
  } catch (error) {
    await stopLocalRedisCluster({ nodes: "", children, dir });
    throw error;
  }
}

export async function stopLocalRedisCluster(cluster: LocalRedisCluster): Promise<void> {
  await Promise.all(
    cluster.children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    }),
  );
  await rm(cluster.dir, { recursive: true, force: true });
}

/** One cluster-enabled redis-server on a free port, in no cluster: it serves no slot (cluster_state:fail). */
export async function startLoneClusterNode(): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "jest-redis-lone-node-"));
  const [port] = await clusterPorts(1);
  const child = await startNode(port, dir);
  return { port, stop: () => stopLocalRedisCluster({ nodes: "", children: [child], dir }) };
}

async function startNode(port: number, root: string): Promise<ChildProcess> {
  const dir = join(root, String(port));
  await mkdir(dir);
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"];
  // A short node timeout: a replica takes over a lost master within seconds, and teardown does not wait on it.
  args.push("--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", join(dir, "redis.log"));
  // A replica syncs at once (not 5 s later) and may always take over: a test's failover does not wait on either.
  args.push("--repl-diskless-sync-delay", "0", "--cluster-replica-validity-factor", "0");
  const child = spawn("redis-server", args, { stdio: "ignore" });
  process.once("exit", () => child.kill("SIGKILL"));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await cli(port, "PING").then((r) => r === "PONG", () => false)) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const log = await readFile(join(dir, "redis.log"), "utf8").catch(() => "");
  child.kill("SIGKILL");
  throw new Error(`cluster node on port ${port} did not start\n${log.trim().split("\n").slice(-5).join("\n")}`);
}

/** Waits until every replica among `ports` has its master's data (only then can it take over). */
async function untilReplicasSynced(ports: number[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const infos = await Promise.all(ports.map((port) => cli(port, "INFO", "replication").catch(() => "")));
    if (infos.every((info) => info.includes("role:master") || info.includes("master_link_status:up"))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the test Redis Cluster's replicas (${ports.join(", ")}) did not sync in ${READY_TIMEOUT_MS} ms`);
}

/** Waits until every node of `ports` reports `cluster_state:ok` (after a failover, too). */
export async function untilClusterOk(ports: number[], timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const states = await Promise.all(ports.map((port) => cli(port, "CLUSTER", "INFO").catch(() => "")));
    if (states.every((info) => info.includes("cluster_state:ok"))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the test Redis Cluster (${ports.join(", ")}) did not reach cluster_state:ok in ${timeoutMs} ms`);
}

export async function cli(port: number, ...command: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...command], { timeout: 2_000 });
  return stdout.trim();
}

/**
 * Ports for `count` nodes: each node also listens on its port + 10000 (the cluster bus),
 * so both must be free. Drawn at random from 20000–29999, away from the ephemeral range.
 */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 200; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (ports.includes(port)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) ports.push(port);
  }
  if (ports.length < count) throw new Error("no free ports for a test Redis Cluster");
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
