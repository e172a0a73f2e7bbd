import { randomUUID } from "node:crypto";
import type { Aal, AalLapse, ClientInfo, NewSession, RevokedSession, SessionRecord, SessionRepo } from "../../core/ports";
import { Prisma, type PrismaClient, type Session } from "./generated/client";
import { isUuid } from "./uuid";

const toRecord = (s: Session): SessionRecord => ({ ...s, aal: s.aal as Aal });

/** The session columns (of table alias `t`) as Prisma's model reads them, for raw statements. */
const sessionColumns = (t: string) =>
  Prisma.raw(
    `${t}.id, ${t}.user_id AS "userId", ${t}.aal, ${t}.user_agent AS "userAgent", ${t}.ip, ` +
      `${t}.created_at AS "createdAt", ${t}.last_used_at AS "lastUsedAt", ${t}.expires_at AS "expiresAt", ` +
      `${t}.aal2_at AS "aal2At", ${t}.revoked_at AS "revokedAt", ${t}.revoked_reason AS "revokedReason", ` +
      // Prisma reads a NULL list as [].
      `COALESCE(${t}.amr, '{}') AS amr, COALESCE(${t}.first_factor_amr, '{}') AS "firstFactorAmr"`,
  );

export class PrismaSessionRepo implements SessionRepo {
  constructor(private readonly prisma: PrismaClient) {}

  async create(s: NewSession): Promise<SessionRecord | null> {
    // One statement, no transaction. FOR SHARE waits for a claim in progress; once it commits,
    // READ COMMITTED re-checks the locked row's newest version against the WHERE, so the raised
    // credentials_version leaves `u` empty and nothing is inserted. A claim that starts after
    // the lock waits for this statement to commit, and then revokes this session too.
    // Ids and created_at come from here, as Prisma's @default(uuid()) and now() would.
    const createdAt = new Date();
    const rows = await this.prisma.$queryRaw<Session[]>`
      WITH u AS (
        SELECT id FROM users WHERE id = ${s.userId}::uuid AND credentials_version = ${s.credentialsVersion}::int FOR SHARE
      ), s AS (
        INSERT INTO sessions (id, user_id, aal, amr, first_factor_amr, ip, user_agent, created_at, last_used_at, aal2_at, expires_at)
        SELECT ${randomUUID()}::uuid, u.id, ${s.aal}, ${s.amr}::text[], ${s.firstFactorAmr}::text[], ${s.client.ip}::text, ${s.client.userAgent}::text,
          ${createdAt}::timestamptz, ${s.now}::timestamptz, ${s.aal === "aal2" ? s.now : null}::timestamptz, ${s.expiresAt}::timestamptz
        FROM u
        RETURNING *
      ), t AS (
        INSERT INTO refresh_tokens (id, session_id, token_hash, created_at)
        SELECT ${randomUUID()}::uuid, s.id, ${s.refreshTokenHash}, ${createdAt}::timestamptz FROM s
      )
      SELECT ${sessionColumns("s")} FROM s`;
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findById(id: string): Promise<SessionRecord | null> {
    // A client's id (revokeSession): one that is no UUID is simply unknown.
    if (!isUuid(id)) return null;
    const row = await this.prisma.session.findUnique({ where: { id } });
    return row && toRecord(row);
  }

  async findByRefreshTokenHash(hash: string) {
    // One join (Prisma's include would read the session in a second query).
    const rows = await this.prisma.$queryRaw<Array<Session & { tokenId: string; tokenRotatedAt: Date | null }>>`
      SELECT r.id AS "tokenId", r.rotated_at AS "tokenRotatedAt", ${sessionColumns("s")}
      FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
      WHERE r.token_hash = ${hash}`;
    if (!rows[0]) return null;
    const { tokenId, tokenRotatedAt, ...session } = rows[0];
    return { tokenId, rotatedAt: tokenRotatedAt, session: toRecord(session) };
  }

  async rotate(tokenId: string, sessionId: string, nextHash: string, client: ClientInfo, now: Date, lapse?: AalLapse): Promise<"rotated" | "reused" | "ended"> {
    const downgrade = lapse ? Prisma.sql`, aal = 'aal1', amr = ${lapse.amr}::text[], aal2_at = NULL` : Prisma.empty;
    // One statement for what was a transaction, with its outcomes. `t` locks the unspent token:
    // of two concurrent uses the second waits, re-checks rotated_at (READ COMMITTED) and finds
    // nothing: "reused". A session revoked meanwhile (a claim, a sign-out elsewhere) leaves `s`
    // empty, and then nothing is written: the token stays unspent and gets no successor.
    const rows = await this.prisma.$queryRaw<Array<{ unspent: boolean; live: boolean }>>`
      WITH t AS (
        SELECT id FROM refresh_tokens WHERE id = ${tokenId}::uuid AND rotated_at IS NULL FOR UPDATE
      ), s AS (
        UPDATE sessions SET last_used_at = ${now}::timestamptz, ip = ${client.ip}::text, user_agent = ${client.userAgent}::text ${downgrade}
        WHERE id = ${sessionId}::uuid AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM t)
        RETURNING id
      ), spent AS (
        UPDATE refresh_tokens SET rotated_at = ${now}::timestamptz WHERE id IN (SELECT id FROM t) AND EXISTS (SELECT 1 FROM s)
      ), next AS (
        INSERT INTO refresh_tokens (id, session_id, token_hash, created_at)
        SELECT ${randomUUID()}::uuid, s.id, ${nextHash}, ${new Date()}::timestamptz FROM s
      )
      SELECT EXISTS (SELECT 1 FROM t) AS unspent, EXISTS (SELECT 1 FROM s) AS live`;
    const { unspent, live } = rows[0];
    return !unspent ? "reused" : live ? "rotated" : "ended";
  }

  async elevate(sessionId: string, amr: string[], now: Date): Promise<SessionRecord | null> {
    const current = await this.prisma.session.findUnique({ where: { id: sessionId } });
    if (!current || current.revokedAt) return null;
    // Conditional: a revocation between the read and this write wins.
    const rows = await this.prisma.session.updateManyAndReturn({
      where: { id: sessionId, revokedAt: null },
      data: { aal: "aal2", aal2At: now, lastUsedAt: now, amr: [...new Set([...current.amr, ...amr])] },
    });
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async reissue(sessionId: string, nextHash: string, now: Date): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.refreshToken.updateMany({ where: { sessionId, rotatedAt: null }, data: { rotatedAt: now } }),
      this.prisma.refreshToken.create({ data: { sessionId, tokenHash: nextHash } }),
    ]);
  }

  async revoke(sessionId: string, reason: string, now: Date): Promise<boolean> {
    const { count } = await this.prisma.session.updateMany({
      where: { id: sessionId, revokedAt: null },
      data: { revokedAt: now, revokedReason: reason },
    });
    return count === 1;
  }

  async listActive(userId: string, now: Date, usedAfter?: Date): Promise<SessionRecord[]> {
    const rows = await this.prisma.session.findMany({
      where: { userId, revokedAt: null, expiresAt: { gt: now }, ...(usedAfter && { lastUsedAt: { gt: usedAfter } }) },
      orderBy: { createdAt: "desc" },
    });
    return rows.map(toRecord);
  }

  async listRevokedSince(since: Date): Promise<RevokedSession[]> {
    const rows = await this.prisma.session.findMany({
      where: { revokedAt: { gte: since } },
      select: { id: true, revokedReason: true },
    });
    return rows.map((r) => ({ id: r.id, reason: r.revokedReason ?? "revoked" }));
  }
}
