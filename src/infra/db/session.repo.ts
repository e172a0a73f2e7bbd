import type { Aal, AalLapse, ClientInfo, NewSession, RevokedSession, SessionRecord, SessionRepo } from "../../core/ports";
import type { PrismaClient, Session } from "./generated/client";
import { isUuid } from "./uuid";

/** Thrown inside a transaction to roll it back: the session was revoked meanwhile. */
class SessionEnded extends Error {}

const toRecord = (s: Session): SessionRecord => ({ ...s, aal: s.aal as Aal });

export class PrismaSessionRepo implements SessionRepo {
  constructor(private readonly prisma: PrismaClient) {}

  async create(s: NewSession): Promise<SessionRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      // FOR SHARE waits for a claim in progress and then sees its version; a claim that
      // starts after this waits for the commit and then revokes this session too.
      const current = await tx.$queryRaw<Array<{ v: number }>>`
        SELECT credentials_version AS v FROM users WHERE id = ${s.userId}::uuid FOR SHARE`;
      if (current[0]?.v !== s.credentialsVersion) return null;
      const row = await tx.session.create({
        data: {
          userId: s.userId,
          aal: s.aal,
          amr: s.amr,
          firstFactorAmr: s.firstFactorAmr,
          ip: s.client.ip,
          userAgent: s.client.userAgent,
          lastUsedAt: s.now,
          aal2At: s.aal === "aal2" ? s.now : null,
          expiresAt: s.expiresAt,
          refreshTokens: { create: { tokenHash: s.refreshTokenHash } },
        },
      });
      return toRecord(row);
    });
  }

  async findById(id: string): Promise<SessionRecord | null> {
    // A client's id (revokeSession): one that is no UUID is simply unknown.
    if (!isUuid(id)) return null;
    const row = await this.prisma.session.findUnique({ where: { id } });
    return row && toRecord(row);
  }

  async findByRefreshTokenHash(hash: string) {
    const row = await this.prisma.refreshToken.findUnique({ where: { tokenHash: hash }, include: { session: true } });
    return row && { tokenId: row.id, rotatedAt: row.rotatedAt, session: toRecord(row.session) };
  }

  async rotate(tokenId: string, sessionId: string, nextHash: string, client: ClientInfo, now: Date, lapse?: AalLapse): Promise<"rotated" | "reused" | "ended"> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        // The conditional update is the lock: of two concurrent uses, only one sees count 1.
        const { count } = await tx.refreshToken.updateMany({ where: { id: tokenId, rotatedAt: null }, data: { rotatedAt: now } });
        if (count !== 1) return "reused";
        const downgrade = lapse && { aal: "aal1", amr: lapse.amr, aal2At: null };
        // Revoked since it was read (a claim, a sign-out elsewhere): no new token for it.
        const live = await tx.session.updateMany({ where: { id: sessionId, revokedAt: null }, data: { lastUsedAt: now, ip: client.ip, userAgent: client.userAgent, ...downgrade } });
        if (live.count !== 1) throw new SessionEnded();
        await tx.refreshToken.create({ data: { sessionId, tokenHash: nextHash } });
        return "rotated";
      });
    } catch (e) {
      if (e instanceof SessionEnded) return "ended";
      throw e;
    }
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
