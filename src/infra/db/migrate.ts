import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One database session. The advisory lock is per session, so never back this with a pool. */
export interface SqlRunner {
  /** Runs one or more statements without parameters (simple query protocol). */
  exec(sql: string): Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

export type MigrationLog = (msg: string, data?: object) => void;

// The key `prisma migrate deploy` itself locks, so the gateway and the CLI never migrate at once.
export const MIGRATION_LOCK_KEY = 72707369;

// Prisma's own DDL for its history table (Postgres connector), so the CLI recognises our rows.
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"            VARCHAR(64) NOT NULL,
    "finished_at"         TIMESTAMPTZ,
    "migration_name"      VARCHAR(255) NOT NULL,
    "logs"                TEXT,
    "rolled_back_at"      TIMESTAMPTZ,
    "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface LocalMigration {
  name: string;
  script: string;
  checksum: string;
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export function migrationChecksum(script: string): string {
  return createHash("sha256").update(script, "utf8").digest("hex");
}

// Prisma accepts a checksum taken before git converted line endings either way.
function matchesChecksum(script: string, checksum: string): boolean {
  return [script, script.replace(/\r\n/g, "\n"), script.replace(/\r?\n/g, "\r\n")].some(
    (variant) => migrationChecksum(variant) === checksum,
  );
}

/** `<dir>/<timestamp>_<name>/migration.sql`, in name order, as Prisma reads them. */
export async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrations: LocalMigration[] = [];
  for (const name of names) {
    const file = join(migrationsDir, name, "migration.sql");
    // Prisma refuses a migration folder without its script; a silent skip would hide a mistake.
    if (!existsSync(file)) throw new Error(`Migration ${name} has no migration.sql (${file})`);
    const script = await readFile(file, "utf8");
    migrations.push({ name, script, checksum: migrationChecksum(script) });
  }
  return migrations;
}

// A session-level advisory lock is re-entrant, so calls sharing one session (one PGlite) would
// all get it at once; queue them in-process as well.
const runnerQueues = new WeakMap<SqlRunner, Promise<unknown>>();

/**
 * Applies the pending migrations in `migrationsDir`, each in its own transaction, recording them in
 * `_prisma_migrations` as `prisma migrate deploy` does. Safe to call from many instances at once.
 */
export function applyMigrations(
  runner: SqlRunner,
  migrationsDir: string,
  log: MigrationLog = () => {},
): Promise<{ applied: string[] }> {
  const previous = runnerQueues.get(runner) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() => applyUnderLock(runner, migrationsDir, log));
  runnerQueues.set(runner, run);
  return run;
}

async function applyUnderLock(
  runner: SqlRunner,
  migrationsDir: string,
  log: MigrationLog,
): Promise<{ applied: string[] }> {
  const local = await readMigrations(migrationsDir);

  const [{ locked }] = await runner.query<{ locked: boolean }>(
    "SELECT pg_try_advisory_lock($1) AS locked",
    [MIGRATION_LOCK_KEY],
  );
  if (!locked) {
    log("waiting for another instance to finish migrating", { lockKey: MIGRATION_LOCK_KEY });
    await runner.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  }
  try {
    await runner.exec(CREATE_HISTORY_TABLE);
    const history = await runner.query<HistoryRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at
         FROM "_prisma_migrations" ORDER BY started_at`,
    );
    // Rows marked rolled back (by us or `prisma migrate resolve`) do not count: the migration is retried.
    const live = history.filter((row) => row.rolled_back_at === null);

    // Prisma (P3009) stops here too: a half-run migration outside a transaction needs a human.
    const failed = live.find((row) => row.finished_at === null);
    if (failed) {
      throw new Error(
        `Migration ${failed.migration_name} failed earlier and is not marked rolled back; ` +
          `fix the database, then run \`prisma migrate resolve\``,
      );
    }

    const done = new Map(live.map((row) => [row.migration_name, row]));
    const applied: string[] = [];
    for (const migration of local) {
      const row = done.get(migration.name);
      if (row) {
        if (!matchesChecksum(migration.script, row.checksum)) {
          log("warning: migration was modified after it was applied", {
            migration: migration.name,
            appliedChecksum: row.checksum,
            localChecksum: migration.checksum,
          });
        }
        continue;
      }
      await applyOne(runner, migration, log);
      applied.push(migration.name);
    }
    return { applied };
  } finally {
    await runner.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
  }
}

async function applyOne(runner: SqlRunner, migration: LocalMigration, log: MigrationLog): Promise<void> {
  const id = randomUUID();
  log("applying migration", { migration: migration.name });
  // The history row commits with the script, so a crash mid-way leaves neither behind.
  await runner.exec("BEGIN");
  try {
    await runner.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, clock_timestamp(), 0)`,
      [id, migration.checksum, migration.name],
    );
    await runner.exec(migration.script);
    await runner.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1
        WHERE id = $1`,
      [id],
    );
    await runner.exec("COMMIT");
  } catch (cause) {
    await runner.exec("ROLLBACK").catch(() => {});
    const message = cause instanceof Error ? cause.message : String(cause);
    await recordRolledBack(runner, migration, message).catch(() => {});
    log("migration failed and was rolled back", { migration: migration.name, error: message });
    throw new Error(`Migration ${migration.name} failed: ${message}`, { cause });
  }
}

// Leaves the failure's logs where Prisma keeps them; marked rolled back, so the next start retries it.
async function recordRolledBack(runner: SqlRunner, migration: LocalMigration, logs: string): Promise<void> {
  await runner.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, rolled_back_at, started_at)
     VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())`,
    [randomUUID(), migration.checksum, migration.name, logs],
  );
}
