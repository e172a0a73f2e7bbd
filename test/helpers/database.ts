import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import pg from "pg";
import { openDatabase, type Database } from "../../src/infra/db";
import type { Prisma } from "../../src/infra/db/generated/client";
import { waitFor } from "./wait";

// From test/helpers under ts-jest, or dist/test/helpers when compiled (the benchmark).
export const MIGRATIONS_DIR = [resolve(__dirname, "../../prisma/migrations"), resolve(__dirname, "../../../prisma/migrations")].find((d) =>
  existsSync(d),
)!;

export interface TestDatabase {
  /** Set when running against Postgres (DATABASE_URL); undefined for in-memory PGlite. */
  url?: string;
  db: Database;
  cleanup(): Promise<void>;
}

export interface EmptyPostgresDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database on the DATABASE_URL server, e.g. for a spawned gateway to migrate itself;
 * undefined when DATABASE_URL is unset (the caller falls back to PGlite).
 */
export async function createTestDatabaseUrl(serverUrl = process.env.DATABASE_URL): Promise<EmptyPostgresDatabase | undefined> {
  if (!serverUrl) return undefined;
  // Lower-case hex only, so the name never needs quoting rules beyond the plain identifier.
  const name = `gw_test_${randomBytes(6).toString("hex")}`;
  await withAdminClient(serverUrl, (admin) => admin.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      // FORCE ends connections a failed test left open, which would otherwise block the drop.
      await withAdminClient(serverUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/**
 * A migrated database of its own for one test file: on the Postgres server `serverUrl`
 * (DATABASE_URL by default) when there is one, else in-memory PGlite.
 */
export async function createTestDatabase(serverUrl = process.env.DATABASE_URL): Promise<TestDatabase> {
  const quiet = () => {};
  const empty = await createTestDatabaseUrl(serverUrl);
  if (!empty) {
    const db = await openDatabase({ pgliteDir: "memory://", migrationsDir: MIGRATIONS_DIR, log: quiet });
    return { db, cleanup: () => db.close() };
  }
  let db: Database;
  try {
    db = await openDatabase({ url: empty.url, migrationsDir: MIGRATIONS_DIR, log: quiet });
  } catch (error) {
    await empty.drop();
    throw error;
  }
  return {
    url: empty.url,
    db,
    async cleanup() {
      await db.close();
      await empty.drop();
    },
  };
}

async function withAdminClient<T>(serverUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/**
 * A Postgres server for tests that need one whatever the run uses (a TCP proxy in front of
 * it stages a partition; embedded PGlite has no connection to cut): DATABASE_URL, else the
 * machine's own on 127.0.0.1:5432. Fails saying so when neither answers.
 */
export async function postgresServerUrl(): Promise<string> {
  const url = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  try {
    await withAdminClient(url, (admin) => admin.query("SELECT 1"));
  } catch (error) {
    throw new Error(`this test needs a Postgres server: set DATABASE_URL (tried ${url}: ${(error as Error).message})`);
  }
  return url;
}

/**
 * Runs `during` while a transaction holds what `write` locked, then commits it: on Postgres
 * only once `during` waits for that lock (PGlite has one connection: `during` queues behind it).
 */
export async function whileCommitting<T>(t: TestDatabase, write: (tx: Prisma.TransactionClient) => Promise<unknown>, during: () => Promise<T>): Promise<T> {
  let pending!: Promise<T>;
  await t.db.prisma.$transaction(async (tx) => {
    await write(tx);
    pending = during();
    // Awaited after the commit; until then a rejection is not unhandled.
    pending.catch(() => {});
    if (!t.url) return;
    await waitFor(
      async () => (await tx.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0].n > 0,
      "a statement waiting for the lock",
      4_000,
    );
  });
  return pending;
}
