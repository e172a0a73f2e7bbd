import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/client";
import { applyMigrations, type MigrationLog, type SqlRunner } from "./migrate";
import { poolSql, prismaSql, type Sql } from "./sql";

export interface Database {
  kind: "postgres" | "pglite";
  prisma: PrismaClient;
  /** The hottest statements, without the ORM's cost (see sql.ts). */
  sql: Sql;
  /** Throws unless the database answers; for readiness checks. */
  ping(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A Postgres URL; without one the gateway runs on embedded PGlite. */
  url?: string;
  /** PGlite data directory (default `.data/pglite`); `memory://` keeps it in memory. */
  pgliteDir?: string;
  migrationsDir: string;
  log: MigrationLog;
  /** Postgres: an idle pooled connection the server closed (the pool reconnects on the next query). */
  onIdleError?: (error: Error) => void;
  /** Postgres: longest wait for a query or a new connection (DATABASE_QUERY_TIMEOUT_MS). */
  queryTimeoutMs?: number;
}

/** DATABASE_QUERY_TIMEOUT_MS's default. */
export const DEFAULT_QUERY_TIMEOUT_MS = 5_000;

export const DEFAULT_PGLITE_DIR = ".data/pglite";

/** Opens the database the settings point at and applies pending migrations before handing it out. */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts) : openPglite(opts.pgliteDir ?? DEFAULT_PGLITE_DIR, opts);
}

/** Connects once and asks SELECT 1: throws why not (refused, timed out, wrong password). */
export async function probePostgres(url: string, timeoutMs: number = DEFAULT_QUERY_TIMEOUT_MS): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  // The failure is the rejected promise; without a listener it would also be an uncaught 'error'.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => {});
  }
}

async function openPostgres(url: string, opts: OpenDatabaseOptions): Promise<Database> {
  // One dedicated session: the advisory lock belongs to a session, which a pool would not keep.
  const client = new pg.Client({ connectionString: url });
  // Without a listener a dropped connection would be an uncaught 'error' event; the query rejects anyway.
  client.on("error", (error) => opts.log("migration connection error", { error: error.message }));
  await client.connect();
  try {
    await applyMigrations(pgClientRunner(client), opts.migrationsDir, opts.log);
  } finally {
    await client.end();
  }
  const timeoutMs = opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  // A partition (no answer, no close) must not hold requests: pg waits forever by default.
  // query_timeout bounds the wait on our side, statement_timeout a slow query on the server's,
  // connectionTimeoutMillis a new connection. A timed-out pool client is discarded.
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs });
  // An idle connection the server ends (a restart, a dropped database) is an 'error' on the
  // pool; without a listener that would be an uncaught exception. The next query reconnects.
  pool.on("error", (error) => (opts.onIdleError ?? ((e: Error) => opts.log("idle database connection closed", { error: e.message })))(error));
  // Prisma shares the pool with the hand-written statements; ending the pool is ours.
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return wrap("postgres", prisma, poolSql(pool), () => pool.end());
}

async function openPglite(dir: string, opts: OpenDatabaseOptions): Promise<Database> {
  const inMemory = dir.startsWith("memory://");
  if (!inMemory) mkdirSync(resolve(dir), { recursive: true });
  // Loaded only here: production never embeds a database, and its image leaves PGlite out.
  const { PGlite } = require("@electric-sql/pglite") as typeof import("@electric-sql/pglite");
  const { PrismaPGlite } = require("pglite-prisma-adapter") as typeof import("pglite-prisma-adapter");
  const pglite = await PGlite.create(inMemory ? dir : resolve(dir));
  try {
    await applyMigrations(pgliteRunner(pglite), opts.migrationsDir, opts.log);
  } catch (error) {
    await pglite.close();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  // The adapter does not own the PGlite instance, so closing it is ours to do.
  return wrap("pglite", prisma, prismaSql(prisma), () => pglite.close());
}

function wrap(kind: Database["kind"], prisma: PrismaClient, sql: Sql, closeDriver: () => Promise<void>): Database {
  let closing: Promise<void> | undefined;
  return {
    kind,
    prisma,
    sql,
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    close() {
      closing ??= prisma.$disconnect().finally(closeDriver);
      return closing;
    },
  };
}

export function pgClientRunner(client: pg.ClientBase): SqlRunner {
  return {
    async exec(sql) {
      await client.query(sql);
    },
    async query<T>(sql: string, params?: unknown[]) {
      const result = await client.query(sql, params);
      return result.rows as T[];
    },
  };
}

export function pgliteRunner(db: PGlite): SqlRunner {
  return {
    async exec(sql) {
      await db.exec(sql);
    },
    async query<T>(sql: string, params?: unknown[]) {
      const result = await db.query<T>(sql, params);
      return result.rows;
    },
  };
}
