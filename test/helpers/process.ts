import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { postGraphql, type GqlOptions, type GqlReply } from "./graphql";

export const ROOT = path.resolve(__dirname, "../..");
/** Built by `npm test`'s pretest step (tsc), as `npm start` builds it. */
export const MAIN = path.join(ROOT, "dist/src/main.js");
/** The delivery worker on its own (DELIVERY_WORKER=false gateways queue, it sends). */
export const WORKER = path.join(ROOT, "dist/src/worker.js");

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Every stdout line so far (pino JSON). */
  lines: string[];
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** One GraphQL operation against this process. */
  request: <TData, TVars>(doc: TypedDocumentNode<TData, TVars> | string, variables?: TVars, opts?: GqlOptions) => Promise<GqlReply<TData>>;
}

/** Kills (SIGKILL) whichever of these still run and waits for them: a test's teardown. */
export async function killRunning(processes: Array<GatewayProcess | undefined>): Promise<void> {
  for (const p of processes) {
    if (p && p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill("SIGKILL");
      await p.exited;
    }
  }
}

/** Starts `node dist/src/main.js` with exactly `env` (plus PATH), on a free port; waits until it is ready. */
export function startGatewayProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<GatewayProcess> {
  return startProcess(MAIN, env, timeoutMs);
}

/** Starts `node dist/src/worker.js` with exactly `env` (plus PATH); waits for "delivery worker ready" (its url is meaningless). */
export function startWorkerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<GatewayProcess> {
  return startProcess(WORKER, env, timeoutMs);
}

async function startProcess(entry: string, env: Record<string, string>, timeoutMs: number): Promise<GatewayProcess> {
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // "close", not "exit": stdout is read to its end first.
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // never leave a half-started gateway behind
      reject(new Error(`gateway not ready in ${timeoutMs} ms:\n${lines.join("\n")}\n${stderr}`));
    }, timeoutMs);
    let buffer = "";
    child.stdout!.on("data", (d) => {
      buffer += d;
      let i: number;
      while ((i = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        lines.push(line);
        const parsed = JSON.parse(line) as { msg?: string; port?: number };
        if ((parsed.msg?.startsWith("gateway ready") && parsed.port) || parsed.msg === "delivery worker ready") {
          clearTimeout(timer);
          resolve(parsed.port ?? 0);
        }
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before it was ready:\n${lines.join("\n")}\n${stderr}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return { child, url, lines, stderr: () => stderr, exited, request: (doc, variables, opts) => postGraphql(url, doc, variables, opts) };
}

/**
 * Runs main.js to its end (for settings that must refuse to start). A gateway that starts
 * instead is killed after `killAfterMs` (code null), so the test fails rather than hangs.
 */
export function runGatewayToExit(env: Record<string, string>, killAfterMs = 60_000, entry = MAIN): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env } });
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
