import path from "node:path";
import type { Settings } from "./config/settings";
import type { Clock, EventBus, KeyValueStore } from "./core/ports";
import { generateKeyEntry } from "./core/secret-box";
import type { Infrastructure } from "./gateway";
import { openDatabase, type Database } from "./infra/db";
import { PrismaAuditLog } from "./infra/db/audit.log";
import { prismaRepositories } from "./infra/db/repositories";
import { createDelivery, devOutboxRouter, type DevOutbox, type RetryPolicy } from "./infra/delivery";
import type { Logger } from "./infra/log/logger";
import { countedAuditLog, PrometheusMetrics } from "./infra/metrics/prometheus.metrics";
import { createMemoryBus, createRedisBus } from "./infra/pubsub";
import { readinessProbes } from "./infra/readiness";
import { createMemoryStore, createRedisStore, isCluster, type RedisTarget } from "./infra/store";
import { createKeyRing, deriveSecret, loadOrCreateKeyFile, loadSigningKey, publicJwksFromPem, type KeyRing } from "./sessions/signing-keys";

export interface OpenInfrastructureOptions {
  /** An open database (tests bring their own); unset: the settings' Postgres, or embedded PGlite. */
  database?: Database;
  /** Where codes, limits, pub/sub and the delivery queue live; unset: REDIS_URL or REDIS_CLUSTER_NODES and REDIS_KEY_PREFIX, or in process. */
  redis?: { url: RedisTarget; keyPrefix: string } | "in-process";
  /** Unset: JWT_PRIVATE_KEY, or a key generated once into DATA_DIR. */
  keyRing?: KeyRing;
  clock?: Clock;
  /** The delivery queue's retry policy (tests shorten it). */
  retry?: Partial<RetryPolicy>;
}

export interface OpenedInfrastructure extends Infrastructure {
  database: Database;
  /** The development outbox, when SMTP or Twilio is not configured. */
  outbox?: DevOutbox;
  /** Closes what it opened, each on its own (a database it was given stays open). */
  close(): Promise<void>;
}

/**
 * Everything the gateway runs on, from the settings (main.ts) or from parts a test opened
 * itself. Each embedded default it falls back to is said in one log line.
 */
export async function openInfrastructure(settings: Settings, log: Logger, options: OpenInfrastructureOptions = {}): Promise<OpenedInfrastructure> {
  const database = options.database ?? (await openConfiguredDatabase(settings, log));
  const keyRing = options.keyRing ?? configuredKeyRing(settings, log);
  if (!settings.totp.encryptionKey) {
    settings.totp.encryptionKey = loadOrCreateKeyFile(settings.dataDir, "totp-encryption.key", () => generateKeyEntry());
    log.info(`TOTP_ENCRYPTION_KEY unset: sealing authenticator secrets with a generated key kept in ${settings.dataDir}`);
  }
  const redis = options.redis ?? configuredRedis(settings, log);
  const { store, bus } = openStore(settings, log, redis, options.clock);
  const repositories = prismaRepositories(database);
  // One registry for the process; the audit trail is counted on its way to Postgres.
  const metrics = new PrometheusMetrics();
  const auditLog = new PrismaAuditLog(database.prisma, database.sql);
  const audit = countedAuditLog(auditLog, metrics);
  // Queued messages carry codes: sealed with a key of their own, derived from the signing key.
  const delivery = createDelivery(settings, {
    log,
    audit,
    metrics,
    redisUrl: redis === "in-process" ? undefined : redis.url,
    redisCommandTimeoutMs: settings.redisCommandTimeoutMs,
    work: settings.deliveryWorker,
    queuePrefix: `${redis === "in-process" ? settings.redisKeyPrefix : redis.keyPrefix}delivery`,
    retry: options.retry,
    clock: options.clock,
    payloadKey: deriveSecret(keyRing.signing, "delivery-queue"),
  });
  if (!settings.mail.smtpUrl) log.info("SMTP_URL unset: email goes to the development outbox (GET /dev/outbox)");
  if (!settings.sms.twilio) log.info(settings.sms.enabled ? "TWILIO_* unset: SMS goes to the development outbox (GET /dev/outbox)" : "SMS is turned off");
  // The audit log's rows still being written are stored before the database closes.
  const opened: Record<string, { close(): Promise<void> }> = { delivery, pubsub: bus, store, audit: auditLog, ...(!options.database && { database }) };
  return {
    repositories,
    audit,
    metrics,
    store,
    bus,
    delivery: delivery.queue,
    devOutbox: delivery.outbox && devOutboxRouter(delivery.outbox),
    keyRing,
    readiness: readinessProbes(database, store),
    database,
    outbox: delivery.outbox,
    close: () => closeAll(log, opened),
  };
}

async function openConfiguredDatabase(settings: Settings, log: Logger): Promise<Database> {
  const pgliteDir = path.join(settings.dataDir, "pglite");
  const db = await openDatabase({
    url: settings.databaseUrl,
    pgliteDir,
    migrationsDir: path.resolve(__dirname, "../../prisma/migrations"),
    log: (msg, data) => log.info(data ?? {}, msg),
    onIdleError: (err) => log.warn({ err }, "database: an idle connection was closed by the server"),
    queryTimeoutMs: settings.databaseQueryTimeoutMs,
  });
  log.info(db.kind === "pglite" ? `DATABASE_URL unset: using embedded PGlite in ${pgliteDir}` : "Postgres: connected, migrations applied");
  return db;
}

function configuredKeyRing(settings: Settings, log: Logger): KeyRing {
  const { key, source } = loadSigningKey({ pem: settings.jwt.privateKeyPem, dataDir: settings.dataDir });
  if (source !== "settings") log.info(`JWT_PRIVATE_KEY unset: signing with a generated key kept in ${settings.dataDir} (kid ${key.kid})`);
  return createKeyRing(key, publicJwksFromPem(settings.jwt.additionalPublicKeys ?? ""));
}

function configuredRedis(settings: Settings, log: Logger): NonNullable<OpenInfrastructureOptions["redis"]> {
  if (!settings.redis) {
    log.info("REDIS_URL unset: using the in-process store and pub/sub (single instance only)");
    return "in-process";
  }
  if (isCluster(settings.redis)) log.info(`Redis Cluster: using REDIS_CLUSTER_NODES (${settings.redis.cluster.length} given) for codes, limits and pub/sub`);
  else log.info("Redis: using REDIS_URL for codes, limits and pub/sub");
  return { url: settings.redis, keyPrefix: settings.redisKeyPrefix };
}

function openStore(settings: Settings, log: Logger, redis: NonNullable<OpenInfrastructureOptions["redis"]>, clock?: Clock): { store: KeyValueStore; bus: EventBus } {
  if (redis === "in-process") return { store: createMemoryStore({ clock }), bus: createMemoryBus() };
  // A connection error is a log line, not ioredis' "Unhandled error event".
  const onError = (err: Error) => log.warn({ err: { message: err.message } }, "redis connection error");
  const { url, keyPrefix } = redis;
  const commandTimeoutMs = settings.redisCommandTimeoutMs;
  return {
    store: createRedisStore({ url, keyPrefix: keyPrefix || undefined, onError, commandTimeoutMs }),
    bus: createRedisBus({ url, topicPrefix: keyPrefix, onError, commandTimeoutMs }),
  };
}

/** In order, each on its own: one failing to close must not keep the others open. */
export async function closeAll(log: Logger, closables: Record<string, { close(): Promise<void> }>): Promise<void> {
  for (const [name, c] of Object.entries(closables)) {
    try {
      await c.close();
      log.debug(`${name} closed`);
    } catch (err) {
      log.warn({ err }, `error while closing the ${name}`);
    }
  }
}
