import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { openDatabase, applyMigrations, type SqlRunner } from "../../src/infra/db";
import { pgClientRunner, pgliteRunner } from "../../src/infra/db/database";
import { MIGRATIONS_DIR, createTestDatabase, createTestDatabaseUrl } from "../helpers/database";

const INIT = "20261125000000_init";
/** Every migration the project ships, in the order they apply. */
const ALL = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const INIT_SQL = readFileSync(join(MIGRATIONS_DIR, INIT, "migration.sql"), "utf8");
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const quiet = () => {};

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
  logs: string | null;
}

/**
 * An empty database to migrate by hand. On Postgres every `session()` is its own connection, as
 * separate gateway instances would have; PGlite has only one session, which every caller shares.
 */
interface EmptyTarget {
  session(): Promise<SqlRunner>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

// Booting PGlite runs initdb (seconds), so PGlite tests share one instance and empty its only schema
// between tests, which leaves it as fresh as a new cluster.
let sharedPglite: Promise<PGlite> | undefined;

async function emptyTarget(): Promise<EmptyTarget> {
  const empty = await createTestDatabaseUrl();
  if (!empty) {
    const pglite = await (sharedPglite ??= PGlite.create("memory://"));
    const runner = yieldingBetweenStatements(pgliteRunner(pglite));
    return {
      session: async () => runner,
      query: runner.query,
      close: () => runner.exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"),
    };
  }
  const clients: pg.Client[] = [];
  const session = async () => {
    const client = new pg.Client({ connectionString: empty.url });
    await client.connect();
    clients.push(client);
    return pgClientRunner(client);
  };
  const inspector = await session();
  return {
    session,
    query: inspector.query,
    async close() {
      await Promise.all(clients.map((c) => c.end()));
      await empty.drop();
    },
  };
}

/**
 * Bare PGlite settles every statement in microtasks, so one caller runs to the end before another
 * starts and concurrency bugs stay hidden; a networked driver gives other callers a turn. Do that.
 */
function yieldingBetweenStatements(runner: SqlRunner): SqlRunner {
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  return {
    exec: async (sql) => {
      await turn();
      return runner.exec(sql);
    },
    query: async <T>(sql: string, params?: unknown[]) => {
      await turn();
      return runner.query<T>(sql, params);
    },
  };
}

/** A copy of the real migrations plus `extra` ones ({ folder: sql }). */
function migrationsWith(extra: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "gw-migrations-"));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "migration.sql"), sql);
  }
  tempDirs.push(dir);
  return dir;
}

const history = (target: Pick<EmptyTarget, "query">) =>
  target.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count, logs
       FROM "_prisma_migrations" ORDER BY started_at`,
  );

const tableExists = async (target: Pick<EmptyTarget, "query">, table: string) =>
  (await target.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [`public.${table}`]))[0].t !== null;

const tempDirs: string[] = [];
let target: EmptyTarget;

beforeEach(async () => {
  target = await emptyTarget();
});

afterEach(async () => {
  await target.close();
});

afterAll(async () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  await (await sharedPglite)?.close();
});

describe("applyMigrations", () => {
  it("gives a fresh database every table and a finished history row carrying the file's sha256", async () => {
    const result = await applyMigrations(await target.session(), MIGRATIONS_DIR, quiet);

    expect(result.applied).toEqual(ALL);
    for (const table of ["users", "sessions", "refresh_tokens", "auth_events", "totp_factors", "recovery_codes"]) {
      expect(await tableExists(target, table)).toBe(true);
    }
    const rows = await history(target);
    expect(rows).toHaveLength(ALL.length);
    expect(rows[0]).toMatchObject({
      migration_name: INIT,
      checksum: sha256(INIT_SQL),
      rolled_back_at: null,
      applied_steps_count: 1,
      logs: null,
    });
    expect(rows[0].finished_at).toBeInstanceOf(Date);
  });

  it("creates _prisma_migrations with Prisma's own columns", async () => {
    await applyMigrations(await target.session(), MIGRATIONS_DIR, quiet);

    const columns = await target.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", is_nullable: "NO" },
      { column_name: "checksum", data_type: "character varying", is_nullable: "NO" },
      { column_name: "finished_at", data_type: "timestamp with time zone", is_nullable: "YES" },
      { column_name: "migration_name", data_type: "character varying", is_nullable: "NO" },
      { column_name: "logs", data_type: "text", is_nullable: "YES" },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", is_nullable: "YES" },
      { column_name: "started_at", data_type: "timestamp with time zone", is_nullable: "NO" },
      { column_name: "applied_steps_count", data_type: "integer", is_nullable: "NO" },
    ]);
  });

  it("applies nothing when run again", async () => {
    await applyMigrations(await target.session(), MIGRATIONS_DIR, quiet);

    const again = await applyMigrations(await target.session(), MIGRATIONS_DIR, quiet);

    expect(again.applied).toEqual([]);
    expect(await history(target)).toHaveLength(ALL.length);
  });

  it("applies each migration exactly once when four instances start at once", async () => {
    const sessions = await Promise.all([1, 2, 3, 4].map(() => target.session()));

    const results = await Promise.all(sessions.map((s) => applyMigrations(s, MIGRATIONS_DIR, quiet)));

    expect(results.map((r) => r.applied).sort()).toEqual([[], [], [], ALL]);
    const rows = await history(target);
    expect(rows).toHaveLength(ALL.length);
    expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
  });

  it("applies only the new migration on a database that already has the older ones", async () => {
    await applyMigrations(await target.session(), MIGRATIONS_DIR, quiet);
    const dir = migrationsWith({ "29991231000000_add_marker": "CREATE TABLE marker (id INT);" });

    const result = await applyMigrations(await target.session(), dir, quiet);

    expect(result.applied).toEqual(["29991231000000_add_marker"]);
    expect(await tableExists(target, "marker")).toBe(true);
    expect((await history(target)).map((r) => r.migration_name)).toEqual([...ALL, "29991231000000_add_marker"]);
  });

  it("throws with the failing migration's name, keeps none of its changes and leaves no finished row", async () => {
    const broken = "29991231000000_broken";
    const dir = migrationsWith({
      [broken]: "CREATE TABLE half_applied (id INT);\nSELECT * FROM no_such_table;",
    });
    const log = jest.fn();

    await expect(applyMigrations(await target.session(), dir, log)).rejects.toThrow(broken);

    expect(await tableExists(target, "half_applied")).toBe(false);
    expect(await tableExists(target, "users")).toBe(true); // the good migration before it stays
    const failedRows = (await history(target)).filter((r) => r.migration_name === broken);
    expect(failedRows).toHaveLength(1);
    // Marked rolled back, with the error in logs, as `prisma migrate resolve --rolled-back` would.
    expect(failedRows[0].finished_at).toBeNull();
    expect(failedRows[0].rolled_back_at).toBeInstanceOf(Date);
    expect(failedRows[0].logs).toContain("no_such_table");
    expect(log).toHaveBeenCalledWith(expect.stringContaining("failed"), expect.objectContaining({ migration: broken }));
  });

  it("retries a rolled-back migration once its file is fixed", async () => {
    const name = "29991231000000_fixable";
    const dir = migrationsWith({ [name]: "CREATE TABLE fixed (id INT); SELECT * FROM no_such_table;" });
    await expect(applyMigrations(await target.session(), dir, quiet)).rejects.toThrow(name);
    writeFileSync(join(dir, name, "migration.sql"), "CREATE TABLE fixed (id INT);");

    const result = await applyMigrations(await target.session(), dir, quiet);

    expect(result.applied).toEqual([name]);
    expect(await tableExists(target, "fixed")).toBe(true);
    const finished = (await history(target)).filter((r) => r.migration_name === name && r.finished_at !== null);
    expect(finished).toHaveLength(1);
    expect(finished[0].checksum).toBe(sha256("CREATE TABLE fixed (id INT);"));
  });

  it("only warns when an applied migration's file was changed afterwards", async () => {
    const name = "29991231000000_edited";
    const dir = migrationsWith({ [name]: "CREATE TABLE edited (id INT);" });
    await applyMigrations(await target.session(), dir, quiet);
    writeFileSync(join(dir, name, "migration.sql"), "CREATE TABLE edited (id INT, extra TEXT);");
    const log = jest.fn();

    const result = await applyMigrations(await target.session(), dir, log);

    expect(result.applied).toEqual([]);
    expect(log).toHaveBeenCalledWith(
      expect.stringContaining("modified"),
      expect.objectContaining({ migration: name, appliedChecksum: sha256("CREATE TABLE edited (id INT);") }),
    );
  });

  it("accepts a checksum taken before line endings were converted", async () => {
    const name = "29991231000000_crlf";
    const dir = migrationsWith({ [name]: "CREATE TABLE crlf (id INT);\nSELECT 1;\n" });
    await applyMigrations(await target.session(), dir, quiet);
    writeFileSync(join(dir, name, "migration.sql"), "CREATE TABLE crlf (id INT);\r\nSELECT 1;\r\n");
    const log = jest.fn();

    await applyMigrations(await target.session(), dir, log);

    expect(log).not.toHaveBeenCalled();
  });

  it("refuses to start over a migration Prisma left failed and not rolled back", async () => {
    const runner = await target.session();
    await applyMigrations(runner, MIGRATIONS_DIR, quiet);
    await runner.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)`,
      ["3b0c4d3e-0000-4000-8000-000000000000", sha256("x"), "29991231000000_half_done"],
    );

    await expect(applyMigrations(runner, MIGRATIONS_DIR, quiet)).rejects.toThrow("29991231000000_half_done");
  });

  it("releases the lock after a failure, so the next start is not blocked", async () => {
    const dir = migrationsWith({ "29991231000000_broken": "SELECT * FROM no_such_table;" });
    await expect(applyMigrations(await target.session(), dir, quiet)).rejects.toThrow();

    const locks = await target.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(locks[0].n).toBe(0);
    await expect(applyMigrations(await target.session(), MIGRATIONS_DIR, quiet)).resolves.toEqual({ applied: [] });
  });
});

describe("openDatabase", () => {
  it("serves Prisma on the test database (Postgres when DATABASE_URL is set, else PGlite)", async () => {
    const { db, url, cleanup } = await createTestDatabase();
    try {
      expect(db.kind).toBe(url ? "postgres" : "pglite");
      await expect(db.ping()).resolves.toBeUndefined();
      const user = await db.prisma.user.create({ data: { email: "ada@example.com" } });
      const read = await db.prisma.user.findUnique({ where: { email: "ada@example.com" } });
      expect(read).toMatchObject({ id: user.id, emailVerified: false, passwordHash: null });
    } finally {
      await cleanup();
    }
  });

  it("runs on in-memory PGlite: a user created through Prisma reads back with its session", async () => {
    const db = await openDatabase({ pgliteDir: "memory://", migrationsDir: MIGRATIONS_DIR, log: quiet });
    try {
      expect(db.kind).toBe("pglite");
      const user = await db.prisma.user.create({
        data: {
          email: "grace@example.com",
          sessions: { create: { aal: "aal1", amr: ["pwd"], expiresAt: new Date(Date.now() + 60_000) } },
        },
      });
      const read = await db.prisma.user.findUniqueOrThrow({ where: { id: user.id }, include: { sessions: true } });
      expect(read.email).toBe("grace@example.com");
      expect(read.sessions).toHaveLength(1);
      expect(read.sessions[0].amr).toEqual(["pwd"]);
    } finally {
      await db.close();
    }
  });

  it("keeps PGlite data on disk across restarts and migrates only the first time", async () => {
    const root = mkdtempSync(join(tmpdir(), "gw-pglite-"));
    tempDirs.push(root);
    const dataDir = join(root, "nested", "pglite"); // does not exist yet
    const log = jest.fn();

    const first = await openDatabase({ pgliteDir: dataDir, migrationsDir: MIGRATIONS_DIR, log });
    await first.prisma.user.create({ data: { phone: "+15555550100" } });
    await first.close();
    await first.close(); // idempotent

    const second = await openDatabase({ pgliteDir: dataDir, migrationsDir: MIGRATIONS_DIR, log });
    try {
      expect(await second.prisma.user.count({ where: { phone: "+15555550100" } })).toBe(1);
      const applying = log.mock.calls.filter(([msg]) => msg === "applying migration");
      expect(applying).toEqual(ALL.map((migration) => ["applying migration", { migration }]));
    } finally {
      await second.close();
    }
  });

  it("fails to open, naming the migration, when a migration fails at start", async () => {
    const dir = migrationsWith({ "29991231000000_broken": "SELECT * FROM no_such_table;" });

    await expect(openDatabase({ pgliteDir: "memory://", migrationsDir: dir, log: quiet })).rejects.toThrow(
      "29991231000000_broken",
    );
  });
});
