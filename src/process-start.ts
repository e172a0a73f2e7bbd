import pino from "pino";
import { loadSettings, SettingsError, type Settings } from "./config/settings";
import { probePostgres } from "./infra/db";
import { createLogger, redactUrlCredentials, type Logger } from "./infra/log/logger";
import { describeRedisTarget, isCluster, probeRedis } from "./infra/store";
import { UnreachableError, waitUntilAllReachable, type Dependency } from "./infra/startup/wait-until-reachable";

/**
 * What both processes (the gateway, main.ts; the delivery worker, worker.ts) do first: the
 * settings (a bad one exits 1 with its message), the logger, and a wait for Postgres and
 * Redis within STARTUP_RETRY_SECONDS (exits 1 naming what stayed unreachable).
 */
export async function startProcess(mixin?: () => Record<string, unknown>): Promise<{ settings: Settings; log: Logger }> {
  let settings: Settings;
  try {
    settings = loadSettings();
  } catch (e) {
    if (e instanceof SettingsError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
  // Asynchronous: lines that come while a write is in flight go out together, one write
  // instead of one per line under load; pino flushes what is left when the process exits.
  const destination = pino.destination({ dest: 1, sync: false });
  const log = createLogger({ level: settings.logLevel, mixin, destination });
  try {
    await waitUntilAllReachable(dependenciesOf(settings), { forMs: settings.startupRetrySeconds * 1000, log });
  } catch (e) {
    if (!(e instanceof UnreachableError)) throw e;
    for (const line of e.lines) log.error(line);
    log.flush();
    process.exit(1);
  }
  return { settings, log };
}

/** SIGTERM and SIGINT run `stop` once, then exit 0; past SHUTDOWN_TIMEOUT_SECONDS, exit 1. */
export function stopOnSignals(settings: Settings, log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    // A stuck dependency must not keep the process from exiting.
    setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, settings.shutdownTimeoutSeconds * 1000).unref();
    await stop();
    log.info("stopped");
    log.flush();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** Postgres and Redis when configured; the embedded ones need no wait. */
function dependenciesOf(settings: Settings): Dependency[] {
  const deps: Dependency[] = [];
  const { databaseUrl, redis } = settings;
  if (databaseUrl) deps.push({ name: "Postgres", redactedUrl: redactUrlCredentials(databaseUrl), probe: () => probePostgres(databaseUrl, settings.databaseQueryTimeoutMs) });
  // A cluster is reachable once every slot is served (cluster_state:ok).
  if (redis) deps.push({ name: isCluster(redis) ? "Redis Cluster" : "Redis", redactedUrl: describeRedisTarget(redis, redactUrlCredentials), probe: () => probeRedis(redis, settings.redisCommandTimeoutMs) });
  return deps;
}
