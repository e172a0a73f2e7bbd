import type { IdentityRecord, IdentityRepo, LinkOutcome, ProviderProfile } from "../../methods/social/identity.repo";
import type { PrismaClient } from "./generated/client";
import { lockForWayRemoval, lockLiveSession } from "./live-session";
import { isUniqueViolation } from "./prisma-errors";


export class PrismaIdentityRepo implements IdentityRepo {
  constructor(private readonly prisma: PrismaClient) {}

  find(provider: string, subject: string): Promise<IdentityRecord | null> {
    return this.prisma.identity.findUnique({ where: { provider_subject: { provider, subject } } });
  }

  listByUser(userId: string): Promise<IdentityRecord[]> {
    return this.prisma.identity.findMany({ where: { userId }, orderBy: { createdAt: "asc" } });
  }

  touch(id: string, profile: ProviderProfile, now: Date): Promise<IdentityRecord> {
    return this.prisma.identity.update({ where: { id }, data: { email: profile.email, emailVerified: profile.emailVerified, lastUsedAt: now } });
  }

  async attach(userId: string, profile: ProviderProfile, now: Date, opts: { liveSession?: string } = {}): Promise<LinkOutcome> {
    try {
      const identity = await this.prisma.$transaction(async (tx) => {
        if (opts.liveSession !== undefined) await lockLiveSession(tx, userId, opts.liveSession);
        return tx.identity.create({ data: { ...profile, userId, lastUsedAt: now } });
      });
      return { status: "linked", identity };
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const holder = await this.find(profile.provider, profile.subject);
      // Deleted again between the two statements: as good as taken, the caller retries or refuses.
      return { status: "taken", userId: holder?.userId ?? "" };
    }
  }

  async createWithUser(profile: ProviderProfile, now: Date): Promise<IdentityRecord | null> {
    try {
      // One statement: a lost race leaves no empty account behind.
      return await this.prisma.identity.create({ data: { ...profile, lastUsedAt: now, user: { create: {} } } });
    } catch (e) {
      if (isUniqueViolation(e)) return null;
      throw e;
    }
  }

  async remove(id: string, userId: string, opts: { liveSession: string; waysInVersion: number }): Promise<"removed" | "missing" | "changed"> {
    return this.prisma.$transaction(async (tx) => {
      // The user's row lock serializes unlinks (and claims, and passkey removals) of this
      // account; taken only if no way in was removed since the caller counted them.
      if (!(await lockForWayRemoval(tx, userId, opts.liveSession, opts.waysInVersion))) return "changed";
      if ((await tx.identity.count({ where: { id, userId } })) !== 1) return "missing";
      await tx.identity.delete({ where: { id } });
      return "removed";
    });
  }
}
