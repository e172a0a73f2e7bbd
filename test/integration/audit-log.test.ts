import { randomUUID } from "node:crypto";
import type { AuthEventInput } from "../../src/core/ports";
import { isDependencyOutage } from "../../src/core/outage";
import { openDatabase } from "../../src/infra/db";
import { PrismaAuditLog } from "../../src/infra/db/audit.log";
import type { Database } from "../../src/infra/db/database";
import type { PrismaClient } from "../../src/infra/db/generated/client";
import type { Sql } from "../../src/infra/db/sql";
import { createTestDatabase, MIGRATIONS_DIR, postgresServerUrl, type TestDatabase } from "../helpers/database";
import { hostAndPort, startTcpProxy } from "../helpers/tcp-proxy";

/**
 * The audit trail in Postgres (PGlite without DATABASE_URL): rows recorded at the same time
 * share one INSERT, yet each caller is answered for its own row, as with one INSERT each.
 */

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.cleanup();
});

/** The database's two paths, counting the statements sent through them: "INSERT" by hand, Prisma's by model and operation. */
function counted(db: Pick<Database, "prisma" | "sql">) {
  const sent: string[] = [];
  const prisma = db.prisma.$extends({
    query: {
      async $allOperations({ model, operation, args, query }) {
        sent.push(model ? `${model}.${operation}` : operation);
        return query(args);
      },
    },
  }) as unknown as PrismaClient;
  const sql: Sql = (text, params) => {
    sent.push(text.split(" ")[0]);
    return db.sql(text, params);
  };
  return { log: new PrismaAuditLog(prisma, sql), sent };
}

const rowsOf = (type: string) => database.db.prisma.authEvent.findMany({ where: { type }, orderBy: { ip: "asc" } });
let n = 0;
const uniqueType = () => `test.audit_${++n}`;
const client = (i: number) => ({ ip: `10.0.0.${String(i).padStart(3, "0")}`, userAgent: `audit-test/${i}` });

describe("PrismaAuditLog.record", () => {
  it("stores rows recorded at the same time in one INSERT, at most 100 rows each", async () => {
    const { log, sent } = counted(database.db);
    const type = uniqueType();
    await Promise.all(Array.from({ length: 130 }, (_, i) => log.record({ type, ok: true, client: client(i), detail: { i } })));
    expect(sent).toEqual(["INSERT", "INSERT"]);
    const rows = await rowsOf(type);
    expect(rows.map((r) => (r.detail as { i: number }).i)).toEqual(Array.from({ length: 130 }, (_, i) => i));
  });

  it("holds what arrives during an INSERT for the next one: each caller is answered once its row is stored", async () => {
    const { log, sent } = counted(database.db);
    const type = uniqueType();
    const first = log.record({ type, ok: true, client: client(0) });
    await Promise.resolve(); // its INSERT is on its way
    const during = Array.from({ length: 20 }, (_, i) => log.record({ type, ok: true, client: client(i + 1) }));
    await first;
    expect(await database.db.prisma.authEvent.count({ where: { type, ip: client(0).ip } })).toBe(1);
    await Promise.all(during);
    expect(await database.db.prisma.authEvent.count({ where: { type } })).toBe(21);
    expect(sent).toEqual(["INSERT", "INSERT"]);
  });

  it("fails only the caller whose row is refused; the rest of its batch is stored", async () => {
    const { log, sent } = counted(database.db);
    const type = uniqueType();
    const events: AuthEventInput[] = [
      { type, ok: true, client: client(1) },
      // No such user: the foreign key refuses this row, and only this one.
      { type, ok: true, userId: randomUUID(), client: client(2) },
      { type, ok: false, client: client(3), detail: { reason: "x" } },
      // Postgres text cannot hold a NUL.
      { type, ok: true, client: { ip: client(4).ip, userAgent: "nul\u0000" } },
    ];
    const outcomes = await Promise.allSettled(events.map((e) => log.record(e)));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
    // The same error each would have had from its own create.
    expect(outcomes[1]).toMatchObject({ reason: { code: "P2003" } });
    expect((await rowsOf(type)).map((r) => r.ip)).toEqual([client(1).ip, client(3).ip]);
    expect(sent).toEqual(["INSERT", ...Array(4).fill("AuthEvent.create")]);
  });

  it("stores every field as Prisma's create does: nulls, JSON, client time", async () => {
    const log = new PrismaAuditLog(database.db.prisma, database.db.sql);
    const user = await database.db.prisma.user.create({ data: { email: `audit${randomUUID()}@example.com` } });
    const details: Array<Record<string, unknown> | undefined> = [
      undefined,
      {},
      { nested: { list: [1, "two", null, true, { deep: -0.5 }] }, none: null, gone: undefined },
      { text: `quotes " ' back\\slash \n newline, ünïcødé 🙂, $1 ::jsonb` },
      { at: new Date("2026-01-02T03:04:05.678Z"), big: 1e21, small: 1e-7, bigint: 2n ** 70n, bytes: new Uint8Array([1, 2, 255]) },
    ];
    const viaLog = uniqueType();
    const viaCreate = uniqueType();
    for (const [i, detail] of details.entries()) {
      const event = { ok: i % 2 === 0, userId: i % 2 ? user.id : null, client: i === 1 ? undefined : { ip: `10.0.0.${i}`, userAgent: i === 2 ? null : `ua "${i}"` }, detail };
      const before = Date.now();
      await log.record({ type: viaLog, ...event });
      const after = Date.now();
      await database.db.prisma.authEvent.create({
        data: { type: viaCreate, ok: event.ok, userId: event.userId, ip: event.client?.ip ?? null, userAgent: event.client?.userAgent ?? null, detail: detail as object | undefined },
      });
      const [row] = await database.db.prisma.authEvent.findMany({ where: { type: viaLog }, orderBy: { at: "desc" }, take: 1 });
      expect(row.at.getTime()).toBeGreaterThanOrEqual(before);
      expect(row.at.getTime()).toBeLessThanOrEqual(after);
    }
    const stored = async (type: string) =>
      (await database.db.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(`SELECT user_id, ok, ip, user_agent, detail::text AS detail, detail IS NULL AS sql_null FROM auth_events WHERE type = $1 ORDER BY at, ip`, type));
    expect(await stored(viaLog)).toEqual(await stored(viaCreate));
  });
});

describe("PrismaAuditLog.close", () => {
  it("resolves once the rows recorded before it are stored", async () => {
    const log = new PrismaAuditLog(database.db.prisma, database.db.sql);
    const type = uniqueType();
    const recorded = Array.from({ length: 5 }, (_, i) => log.record({ type, ok: true, client: client(i) }));
    await log.close();
    expect(await database.db.prisma.authEvent.count({ where: { type } })).toBe(5);
    await Promise.all(recorded);
  });
});

describe("PrismaAuditLog with Postgres refusing connections", () => {
  it("fails every caller with the outage, without trying each row again; the rows behind get their own try", async () => {
    const serverUrl = await postgresServerUrl();
    const own = await createTestDatabase(serverUrl);
    const proxy = await startTcpProxy(hostAndPort(serverUrl, 5432));
    const db = await openDatabase({ url: proxy.urlFor(own.url!), migrationsDir: MIGRATIONS_DIR, log: () => {} });
    try {
      const { log, sent } = counted(db);
      await proxy.refuse();
      const record = (i: number) => log.record({ type: "test.outage", ok: true, client: client(i) });
      const batch = [1, 2, 3].map(record);
      await Promise.resolve(); // its INSERT is on its way
      const behind = [4, 5].map(record);
      const outcomes = await Promise.allSettled([...batch, ...behind]);
      expect(outcomes.map((o) => o.status === "rejected" && isDependencyOutage(o.reason))).toEqual(Array(5).fill(true));
      // A refusal answers at once: the rows behind are one more statement, refused too.
      expect(sent).toEqual(["INSERT", "INSERT"]);
    } finally {
      await proxy.pass();
      await db.close();
      await proxy.close();
      await own.cleanup();
    }
  });
});
