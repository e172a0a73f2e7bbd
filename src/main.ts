// First: tracing, when on, must patch http, express, graphql, ioredis and pg before they load.
import { tracing } from "./tracing";
import "reflect-metadata";
import pino from "pino";
import { loadSettings, SettingsError, type Settings } from "./config/settings";
import { createGateway } from "./gateway";
import { probePostgres } from "./infra/db";
import { createLogger, redactUrlCredentials } from "./infra/log/logger";
import { describeRedisTarget, isCluster, probeRedis } from "./infra/store";
import { UnreachableError, waitUntilAllReachable, type Dependency } from "./infra/startup/wait-until-reachable";
import { closeAll, openInfrastructure } from "./infrastructure";

/** The composition root: settings → infrastructure → services → schema → server. */
async function main(): Promise<void> {
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
  const log = createLogger({ level: settings.logLevel, mixin: tracing?.logFields, destination });
  if (tracing) log.info("OTEL_EXPORTER_OTLP_ENDPOINT set: sending traces");

  try {
    await waitUntilAllReachable(dependenciesOf(settings), { forMs: settings.startupRetrySeconds * 1000, log });
  } catch (e) {
    if (!(e instanceof UnreachableError)) throw e;
    for (const line of e.lines) log.error(line);
    log.flush();
    process.exit(1);
  }

  const infra = await openInfrastructure(settings, log);
  const gateway = await createGateway(settings, infra, log);
  const port = await gateway.listen(settings.port, settings.host);
  log.info({ port, host: settings.host }, `gateway ready at ${settings.publicUrl}/graphql`);

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
    await gateway.close();
    log.info("server closed");
    await closeAll(log, { infrastructure: infra, ...(tracing && { tracing: { close: tracing.shutdown } }) });
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
