import { randomUUID } from "node:crypto";
import { groupCommit } from "../../core/group-commit";
import { isDependencyOutage, isDependencyTimeout } from "../../core/outage";
import type { AuditLog, AuthEventInput } from "../../core/ports";
import type { PrismaClient } from "./generated/client";
import type { Sql } from "./sql";

/** Rows per INSERT: 8 parameters each, far below Postgres' 65535. */
const MAX_ROWS_PER_INSERT = 100;

interface AuthEventRow {
  id: string;
  type: string;
  ok: boolean;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: object | undefined;
  at: Date;
}

/** JSON as Prisma writes a Json field: a BigInt as its digits, bytes as base64. */
const prismaJson = (value: object): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : v));

/**
 * The audit trail in Postgres. Rows recorded while an insert is in flight go out together
 * in the next one (see groupCommit): one statement instead of one each. Hand-written
 * (sql.ts): Prisma's create and createMany spend two to three times its CPU per row.
 */
export class PrismaAuditLog implements AuditLog {
  // A database that did not answer in time fails the rows behind at once (each caller waits
  // one timeout, not one per batch ahead); after a lost connection they get their own try.
  private readonly rows = groupCommit<AuthEventRow>((rows) => this.insert(rows), MAX_ROWS_PER_INSERT, isDependencyTimeout);

  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: Sql,
  ) {}

  record(e: AuthEventInput): Promise<void> {
    return this.rows.add({
      id: randomUUID(),
      type: e.type,
      ok: e.ok,
      userId: e.userId ?? null,
      ip: e.client?.ip ?? null,
      userAgent: e.client?.userAgent ?? null,
      detail: (e.detail ?? undefined) as object | undefined,
      // When it happened, not when its batch went out.
      at: new Date(),
    });
  }

  /** Resolves once every row recorded so far is stored: before the database closes. */
  close(): Promise<void> {
    return this.rows.drained();
  }

  private async insert(rows: AuthEventRow[]): Promise<PromiseSettledResult<unknown>[] | void> {
    try {
      const params = rows.flatMap((r) => [r.id, r.userId, r.type, r.ok, r.ip, r.userAgent, r.detail === undefined ? null : prismaJson(r.detail), r.at]);
      await this.sql(insertStatement(rows.length), params);
    } catch (error) {
      // A database that is down fails every row alike. Anything else may be one row's
      // fault (its user deleted meanwhile): each row alone, so only that caller fails. One
      // after another: a batch a bad row spoiled must not take a connection per row.
      if (isDependencyOutage(error)) throw error;
      const settled: PromiseSettledResult<unknown>[] = [];
      for (const data of rows) {
        settled.push(...(await Promise.allSettled([this.prisma.authEvent.create({ data, select: { id: true } })])));
      }
      return settled;
    }
  }
}

/** The INSERT for `n` rows, 8 parameters each (one text per size: a prepared statement each). */
const insertStatements = new Map<number, string>();
function insertStatement(n: number): string {
  let text = insertStatements.get(n);
  if (!text) {
    const row = (i: number) => {
      const p = (k: number) => `$${i * 8 + k}`;
      return `(${p(1)}::uuid, ${p(2)}::uuid, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}::jsonb, ${p(8)}::timestamptz)`;
    };
    text = `INSERT INTO auth_events (id, user_id, type, ok, ip, user_agent, detail, at) VALUES ${Array.from({ length: n }, (_, i) => row(i)).join(", ")}`;
    insertStatements.set(n, text);
  }
  return text;
}
