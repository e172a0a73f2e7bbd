import { randomUUID } from "node:crypto";
import type { Aal, AalLapse, ClientInfo, NewSession, RevokedSession, SessionRecord, SessionRepo } from "../../core/ports";
import type { PrismaClient, Session } from "./generated/client";
import type { Sql } from "./sql";
import { isUuid } from "./uuid";

const toRecord = (s: Session): SessionRecord => ({ ...s, aal: s.aal as Aal });

/** The session columns (of table alias `t`) as Prisma's model reads them, for hand-written statements (see sql.ts). */
const sessionColumns = (t: string) =>
  `${t}.id::text AS id, ${t}.user_id::text AS "userId", ${t}.aal, ${t}.user_agent AS "userAgent", ${t}.ip, ` +
  `${t}.created_at AS "createdAt", ${t}.last_used_at AS "lastUsedAt", ${t}.expires_at AS "expiresAt", ` +
  `${t}.aal2_at AS "aal2At", ${t}.revoked_at AS "revokedAt", ${t}.revoked_reason AS "revokedReason", ` +
  // Prisma reads a NULL list as [].
  `COALESCE(${t}.amr, '{}') AS amr, COALESCE(${t}.first_factor_amr, '{}') AS "firstFactorAmr"`;

/** The same statement text each time: poolSql prepares it once per connection. */
const CREATE = `
  WITH u AS (
    SELECT id FROM users WHERE id = $1::uuid AND credentials_version = $2::int FOR SHARE
  ), s AS (
    INSERT INTO sessions (id, user_id, aal, amr, first_factor_amr, ip, user_agent, created_at, last_used_at, aal2_at, expires_at)
    SELECT $3::uuid, u.id, $4::text, $5::text[], $6::text[], $7::text, $8::text, $9::timestamptz, $10::timestamptz, $11::timestamptz, $12::timestamptz
    FROM u
    RETURNING *
  ), t AS (
    INSERT INTO refresh_tokens (id, session_id, token_hash, created_at)
    SELECT $13::uuid, s.id, $14::text, $9::timestamptz FROM s
  ), e AS (
    INSERT INTO auth_events (id, user_id, type, ok, ip, user_agent, detail, at)
    SELECT $15::uuid, s.user_id, 'session.created', true, s.ip, s.user_agent,
      jsonb_build_object('sessionId', s.id::text, 'aal', s.aal, 'amr', to_jsonb(s.amr)), $9::timestamptz
    FROM s
  )
  SELECT ${sessionColumns("s")} FROM s`;

const BY_REFRESH_TOKEN = `
  SELECT r.id::text AS "tokenId", r.rotated_at AS "tokenRotatedAt", ${sessionColumns("s")}
  FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
  WHERE r.token_hash = $1`;

/** `downgrade`: an aal2 that lapsed becomes aal1 with amr $9. */
const rotateStatement = (downgrade: boolean) => `
  WITH t AS (
    SELECT id FROM refresh_tokens WHERE id = $1::uuid AND rotated_at IS NULL FOR UPDATE
  ), s AS (
    UPDATE sessions SET last_used_at = $3::timestamptz, ip = $4::text, user_agent = $5::text
      ${downgrade ? ", aal = 'aal1', amr = $9::text[], aal2_at = NULL" : ""}
    WHERE id = $2::uuid AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM t)
    RETURNING id
  ), spent AS (
    UPDATE refresh_tokens SET rotated_at = $3::timestamptz WHERE id IN (SELECT id FROM t) AND EXISTS (SELECT 1 FROM s)
  ), next AS (
    INSERT INTO refresh_tokens (id, session_id, token_hash, created_at)
    SELECT $6::uuid, s.id, $7::text, $8::timestamptz FROM s
  )
  SELECT EXISTS (SELECT 1 FROM t) AS unspent, EXISTS (SELECT 1 FROM s) AS live`;
const ROTATE = rotateStatement(false);
const ROTATE_AND_DOWNGRADE = rotateStatement(true);

export class PrismaSessionRepo implements SessionRepo {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: Sql,
  ) {}

  async create(s: NewSession): Promise<SessionRecord | null> {
    // One statement, no transaction. FOR SHARE waits for a claim in progress; once it commits,
    // READ COMMITTED re-checks the locked row's newest version against the WHERE, so the raised
    // credentials_version leaves `u` empty and nothing is inserted. A claim that starts after
    // the lock waits for this statement to commit, and then revokes this session too.
    // Ids and created_at come from here, as Prisma's @default(uuid()) and now() would.
    const { client } = s;
    const aal2At = s.aal === "aal2" ? s.now : null;
    const session = [randomUUID(), s.aal, s.amr, s.firstFactorAmr, client.ip, client.userAgent, new Date(), s.now, aal2At, s.expiresAt];
    const [row] = await this.sql<Session>(CREATE, [s.userId, s.credentialsVersion, ...session, randomUUID(), s.refreshTokenHash, randomUUID()]);
    return row ? toRecord(row) : null;
  }

  async findById(id: string): Promise<SessionRecord | null> {
    // A client's id (revokeSession): one that is no UUID is simply unknown.
    if (!isUuid(id)) return null;
    const row = await this.prisma.session.findUnique({ where: { id } });
    return row && toRecord(row);
  }

  async findByRefreshTokenHash(hash: string) {
    // One join (Prisma's include would read the session in a second query).
    const [row] = await this.sql<Session & { tokenId: string; tokenRotatedAt: Date | null }>(BY_REFRESH_TOKEN, [hash]);
    if (!row) return null;
    const { tokenId, tokenRotatedAt, ...session } = row;
    return { tokenId, rotatedAt: tokenRotatedAt, session: toRecord(session) };
  }

  async rotate(tokenId: string, sessionId: string, nextHash: string, client: ClientInfo, now: Date, lapse?: AalLapse): Promise<"rotated" | "reused" | "ended"> {
    // One statement for what was a transaction, with its outcomes. `t` locks the unspent token:
    // of two concurrent uses the second waits, re-checks rotated_at (READ COMMITTED) and finds
    // nothing: "reused". A session revoked meanwhile (a claim, a sign-out elsewhere) leaves `s`
    // empty, and then nothing is written: the token stays unspent and gets no successor.
    const params = [tokenId, sessionId, now, client.ip, client.userAgent, randomUUID(), nextHash, new Date()];
    const [{ unspent, live }] = await this.sql<{ unspent: boolean; live: boolean }>(lapse ? ROTATE_AND_DOWNGRADE : ROTATE, lapse ? [...params, lapse.amr] : params);
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
