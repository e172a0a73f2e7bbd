// First: tracing, when on, must patch http, express, graphql, ioredis and pg before they load.
import { tracing } from "./tracing";
import "reflect-metadata";
import path from "node:path";
import { loadSettings, SettingsError, type Settings } from "./config/settings";
import type { EventBus, KeyValueStore } from "./core/ports";
import { createGateway } from "./gateway";
import { openDatabase, probePostgres } from "./infra/db";
import { PrismaAuditLog } from "./infra/db/audit.log";
import { prismaRepositories } from "./infra/db/repositories";
import { createDelivery, devOutboxRouter } from "./infra/delivery";
import { createLogger, redactUrlCredentials, type Logger } from "./infra/log/logger";
import { countedAuditLog, PrometheusMetrics } from "./infra/metrics/prometheus.metrics";
import { readinessProbes } from "./infra/readiness";
import { createMemoryBus, createRedisBus } from "./infra/pubsub";
import { createMemoryStore, createRedisStore, probeRedis } from "./infra/store";
import { UnreachableError, waitUntilAllReachable, type Dependency } from "./infra/startup/wait-until-reachable";
import { generateKeyEntry } from "./core/secret-box";
import { createKeyRing, deriveSecret, loadOrCreateKeyFile, loadSigningKey, publicJwksFromPem } from "./sessions/signing-keys";

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
  const log = createLogger({ level: settings.logLevel, mixin: tracing?.logFields });
  if (tracing) log.info("OTEL_EXPORTER_OTLP_ENDPOINT set: sending traces");

  try {
    await waitUntilAllReachable(dependenciesOf(settings), { forMs: settings.startupRetrySeconds * 1000, log });
  } catch (e) {
    if (!(e instanceof UnreachableError)) throw e;
    for (const line of e.lines) log.error(line);
    log.flush();
    process.exit(1);
  }

  const db = await openDatabase({
    url: settings.databaseUrl,
    pgliteDir: path.join(settings.dataDir, "pglite"),
    migrationsDir: path.resolve(__dirname, "../../prisma/migrations"),
    log: (msg, data) => log.info(data ?? {}, msg),
    queryTimeoutMs: settings.databaseQueryTimeoutMs,
  });
  log.info(
    db.kind === "pglite"
      ? `DATABASE_URL unset: using embedded PGlite in ${path.join(settings.dataDir, "pglite")}`
      : "Postgres: connected, migrations applied",
  );

  const { key, source } = loadSigningKey({ pem: settings.jwt.privateKeyPem, dataDir: settings.dataDir });
  if (source !== "settings") log.info(`JWT_PRIVATE_KEY unset: signing with a generated key kept in ${settings.dataDir} (kid ${key.kid})`);

  if (!settings.totp.encryptionKey) {
    settings.totp.encryptionKey = loadOrCreateKeyFile(settings.dataDir, "totp-encryption.key", () => generateKeyEntry());
    log.info(`TOTP_ENCRYPTION_KEY unset: sealing authenticator secrets with a generated key kept in ${settings.dataDir}`);
  }

  const { store, bus } = openStore(settings, log);
  const repositories = prismaRepositories(db.prisma);
  // One registry for the process; the audit trail is counted on its way to Postgres.
  const metrics = new PrometheusMetrics();
  const audit = countedAuditLog(new PrismaAuditLog(db.prisma), metrics);
  // Queued messages carry codes: sealed with a key of their own, derived from the signing key.
  const delivery = createDelivery(settings, {
    log,
    audit,
    metrics,
    redisUrl: settings.redisUrl,
    redisCommandTimeoutMs: settings.redisCommandTimeoutMs,
    queuePrefix: `${settings.redisKeyPrefix}delivery`,
    payloadKey: deriveSecret(key, "delivery-queue"),
  });
  if (!settings.mail.smtpUrl) log.info("SMTP_URL unset: email goes to the development outbox (GET /dev/outbox)");
  if (!settings.sms.twilio) log.info(settings.sms.enabled ? "TWILIO_* unset: SMS goes to the development outbox (GET /dev/outbox)" : "SMS is turned off");


  const gateway = await createGateway(
    settings,
    {
      repositories,
      audit,
      metrics,
      store,
      bus,
      delivery: delivery.queue,
      devOutbox: delivery.outbox && devOutboxRouter(delivery.outbox),
      keyRing: createKeyRing(key, publicJwksFromPem(settings.jwt.additionalPublicKeys ?? "")),
      readiness: readinessProbes(db, store),
    },
    log,
  );
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
    await closeAll(log, { delivery, pubsub: bus, store, database: db, ...(tracing && { tracing: { close: tracing.shutdown } }) });
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
  const { databaseUrl, redisUrl } = settings;
  if (databaseUrl) deps.push({ name: "Postgres", redactedUrl: redactUrlCredentials(databaseUrl), probe: () => probePostgres(databaseUrl, settings.databaseQueryTimeoutMs) });
  if (redisUrl) deps.push({ name: "Redis", redactedUrl: redactUrlCredentials(redisUrl), probe: () => probeRedis(redisUrl, settings.redisCommandTimeoutMs) });
  return deps;
}

function openStore(settings: Settings, log: Logger): { store: KeyValueStore; bus: EventBus } {
  if (!settings.redisUrl) {
    log.info("REDIS_URL unset: using the in-process store and pub/sub (single instance only)");
    return { store: createMemoryStore(), bus: createMemoryBus() };
  }
  const onError = (err: Error) => log.warn({ err: { message: err.message } }, "redis connection error");
  log.info("Redis: using REDIS_URL for codes, limits and pub/sub");
  const prefix = settings.redisKeyPrefix;
  const commandTimeoutMs = settings.redisCommandTimeoutMs;
  return {
    store: createRedisStore({ url: settings.redisUrl, keyPrefix: prefix || undefined, onError, commandTimeoutMs }),
    bus: createRedisBus({ url: settings.redisUrl, topicPrefix: prefix, onError, commandTimeoutMs }),
  };
}

/** In order, each on its own: one failing to close must not keep the others open. */
async function closeAll(log: Logger, closables: Record<string, { close(): Promise<void> }>): Promise<void> {
  for (const [name, c] of Object.entries(closables)) {
    try {
      await c.close();
      log.debug(`${name} closed`);
    } catch (err) {
      log.warn({ err }, `error while closing the ${name}`);
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
