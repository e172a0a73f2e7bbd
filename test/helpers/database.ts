import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import pg from "pg";
import { openDatabase, type Database } from "../../src/infra/db";

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
export async function createTestDatabaseUrl(): Promise<EmptyPostgresDatabase | undefined> {
  const serverUrl = process.env.DATABASE_URL;
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

/** A migrated database of its own for one test file: Postgres when DATABASE_URL is set, else in-memory PGlite. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const quiet = () => {};
  const empty = await createTestDatabaseUrl();
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
