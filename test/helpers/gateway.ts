import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import type { DocumentNode } from "graphql";
import { loadSettings, type Settings } from "../../src/config/settings";
import type { Clock, KeyValueStore, Repositories } from "../../src/core/ports";
import { createGateway, type Gateway, type Infrastructure } from "../../src/gateway";
import { generateKeyEntry } from "../../src/core/secret-box";
import type { DevOutbox, OutboxEntry, RetryPolicy } from "../../src/infra/delivery";
import { createLogger } from "../../src/infra/log/logger";
import { openInfrastructure } from "../../src/infrastructure";
import { createKeyRing, publicJwksFromPem, signingKeyFromPem, type KeyRing } from "../../src/sessions/signing-keys";
import { generateKeyPairSync } from "node:crypto";
import { openDatabase, type Database } from "../../src/infra/db";
import type { MemoryBus, RedisBus } from "../../src/infra/pubsub";
import { createTestDatabase, MIGRATIONS_DIR, type TestDatabase } from "./database";
import type { TcpProxy } from "./tcp-proxy";
import { postGraphql, type GqlOptions, type GqlReply, type GqlResult } from "./graphql";
import { codeIn } from "./codes";
import { deleteKeysUnder, testClusterTarget } from "./redis-keyspace";
import { waitFor } from "./wait";

export type { GqlResult } from "./graphql";

export interface TestGatewayOptions {
  /** Settings as environment variables, on top of test defaults. */
  env?: Record<string, string>;
  /**
   * "redis" (REDIS_URL, a key prefix of its own) unless asked for the in-process store, or
   * "cluster": the run's Redis Cluster through REDIS_CLUSTER_NODES, as a deployment sets it.
   */
  store?: "redis" | "memory" | "cluster";
  clock?: Clock;
  /** Replace parts of the infrastructure, e.g. a failing readiness probe; repositories by name (`users`). */
  override?: (infra: OverridableInfrastructure) => Partial<OverridableInfrastructure>;
  /** Share another test gateway's database (as a second instance would); left open on close. */
  db?: TestDatabase;
  /**
   * A second instance of the same deployment: shares `peerOf`'s database, Redis key prefix,
   * signing key and TOTP key (its own env still applies on top).
   */
  peerOf?: TestGateway;
  /** Where log lines go besides `logs` (e.g. stderr for a benchmark). */
  logDestination?: NodeJS.WritableStream;
  /** The delivery queue's retry policy, over a fast test default. */
  retry?: Partial<RetryPolicy>;
  /** Reach Redis and/or Postgres through these proxies (test/helpers/tcp-proxy.ts), to stage outages. */
  through?: { redis?: TcpProxy; postgres?: TcpProxy };
}

export interface TestGateway {
  url: string;
  /** Where GET /metrics answers (METRICS_PORT set, e.g. to "0"); null when it is not served. */
  metricsUrl: string | null;
  settings: Settings;
  gateway: Gateway;
  db: TestDatabase;
  store: KeyValueStore;
  /** Its event bus (RedisBus or MemoryBus: both count a topic's listeners). */
  bus: RedisBus | MemoryBus;
  keyRing: KeyRing;
  /** This deployment's Redis key prefix (shared by its peers). */
  keyPrefix: string;
  /** The development outbox, when SMTP/Twilio are not configured. */
  outbox?: DevOutbox;
  /** Waits until the outbox holds `count` messages to `to` (the queue delivers them); newest first. */
  sentTo(to: string, count?: number): Promise<OutboxEntry[]>;
  /** The code in the newest message to `to`, once `count` messages to it have arrived. */
  codeSentTo(to: string, count?: number): Promise<string>;
  /** Every log line the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  request<TData, TVars>(
    doc: TypedDocumentNode<TData, TVars> | DocumentNode | string,
    variables?: TVars,
    opts?: GqlOptions,
  ): Promise<GqlReply<TData>>;
  close(): Promise<void>;
}

/** A whole gateway in this process, on real Postgres/PGlite and real Redis, on a free port. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const peer = options.peerOf;
  const prefix = peer?.keyPrefix ?? `test:${randomUUID()}:`;
  const cluster = options.store === "cluster" ? testClusterTarget() : undefined;
  const settings = loadSettings({
    ...(cluster && { REDIS_CLUSTER_NODES: cluster.cluster.map(({ host, port }) => `${host}:${port}`).join(","), REDIS_KEY_PREFIX: prefix }),
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    PORT: "0",
    TOTP_ENCRYPTION_KEY: peer?.settings.totp.encryptionKey ?? generateKeyEntry(),
    ...(peer && { PUBLIC_URL: peer.settings.publicUrl }),
    ...options.env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) logs.push(JSON.parse(line));
      options.logDestination?.write(chunk);
      done();
    },
  });
  const log = createLogger({ level: settings.logLevel, destination: sink });
  const sharedDb = options.db ?? peer?.db;
  const db = sharedDb ?? (await createTestDatabase());
  if (options.store !== "memory" && !process.env.REDIS_URL) throw new Error("REDIS_URL is not set: the jest global setup should have started a redis-server");
  // The gateway's own connections through the proxy; the test database is made and dropped directly.
  let proxiedDb: Database | undefined;
  if (options.through?.postgres) {
    if (!db.url) throw new Error("a Postgres proxy needs DATABASE_URL");
    proxiedDb = await openDatabase({ url: options.through.postgres.urlFor(db.url), migrationsDir: MIGRATIONS_DIR, log: () => {}, queryTimeoutMs: settings.databaseQueryTimeoutMs });
  }
  const pem = settings.jwt.privateKeyPem ?? generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const keyRing = peer && !settings.jwt.privateKeyPem ? peer.keyRing : createKeyRing(signingKeyFromPem(pem), publicJwksFromPem(settings.jwt.additionalPublicKeys ?? ""));
  // As main.ts opens it, from parts of the test's own: its database, key prefix and key, a fast retry.
  const base = await openInfrastructure(settings, log, {
    database: proxiedDb ?? db.db,
    // A cluster comes from the settings (REDIS_CLUSTER_NODES), as in main.ts.
    redis: cluster ? undefined : options.store === "memory" ? "in-process" : { url: options.through?.redis?.urlFor(process.env.REDIS_URL!) ?? process.env.REDIS_URL!, keyPrefix: prefix },
    keyRing,
    clock: options.clock,
    // Unless a test configures SMTP/Twilio, messages land in the development outbox.
    retry: { baseDelayMs: 10, maxDelayMs: 100, ...options.retry },
  });
  const infra = overridden(base, options.override);
  const gateway = await createGateway(settings, infra, log, options.clock);
  const port = await gateway.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}`;

  const sentTo = (to: string, count = 1): Promise<OutboxEntry[]> => {
    const outbox = base.outbox;
    if (!outbox) throw new Error("this gateway has no development outbox (SMTP/Twilio are set)");
    return waitFor(() => {
      const sent = outbox.list().filter((m) => m.to === to);
      return sent.length >= count && sent;
    }, `${count} message(s) to ${to}`);
  };

  const metricsPort = gateway.metricsPort();
  return {
    url,
    metricsUrl: metricsPort === null ? null : `http://127.0.0.1:${metricsPort}`,
    settings,
    gateway,
    db,
    store: base.store,
    bus: base.bus as RedisBus | MemoryBus,
    keyRing,
    keyPrefix: prefix,
    logs,
    request: (doc, variables, opts) => postGraphql(url, doc, variables, opts),
    outbox: base.outbox,
    sentTo,
    codeSentTo: async (to, count = 1) => codeIn((await sentTo(to, count))[0].text),
    async close() {
      await gateway.close();
      await base.close();
      await proxiedDb?.close();
      if (!sharedDb) await db.cleanup();
      // Peers share the prefix; its owner clears it (BullMQ's queue metadata never expires).
      if (options.store !== "memory" && !peer) await deleteKeysUnder(cluster ?? process.env.REDIS_URL!, prefix);
    },
  };
}

/** The infrastructure with each repository also at the top level, where a test replaces one by name. */
export type OverridableInfrastructure = Infrastructure & Repositories;

function overridden(base: Infrastructure, override: TestGatewayOptions["override"]): Infrastructure {
  if (!override) return base;
  const names = new Set(Object.keys(base.repositories));
  const replaced = Object.entries(override({ ...base, ...base.repositories }));
  const repositories = { ...base.repositories, ...Object.fromEntries(replaced.filter(([k]) => names.has(k))) };
  return { ...base, ...Object.fromEntries(replaced.filter(([k]) => !names.has(k))), repositories };
}

/** The `extensions.code` of the first error, for terse assertions. */
export const errorCode = (r: GqlResult<unknown>): unknown => r.errors?.[0]?.extensions?.code;
