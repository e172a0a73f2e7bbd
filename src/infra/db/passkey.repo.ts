import { randomBytes } from "node:crypto";
import type { NewPasskey, PasskeyRecord, PasskeyRepo } from "../../methods/passkey/passkey.repo";
import type { Passkey, PrismaClient } from "./generated/client";
import { lockForWayRemoval, lockLiveSession } from "./live-session";
import { isUuid } from "./uuid";
import { isUniqueViolation } from "./prisma-errors";

const HANDLE_BYTES = 64;

/** Bytes on an ArrayBuffer of their own, as the WebAuthn library's types want. */
const copy = (b: Uint8Array): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(new ArrayBuffer(b.byteLength));
  out.set(b);
  return out;
};

const toRecord = (p: Passkey): PasskeyRecord => ({ ...p, publicKey: copy(p.publicKey), counter: Number(p.counter) });


export class PrismaPasskeyRepo implements PasskeyRepo {
  constructor(private readonly prisma: PrismaClient) {}

  async userHandle(userId: string): Promise<Uint8Array<ArrayBuffer>> {
    // Insert-if-absent, then read: two first registrations at once still share one handle.
    await this.prisma.passkeyUserHandle.createMany({ data: [{ userId, handle: randomBytes(HANDLE_BYTES) }], skipDuplicates: true });
    const row = await this.prisma.passkeyUserHandle.findUniqueOrThrow({ where: { userId } });
    return copy(row.handle);
  }

  async userOfHandle(handle: Uint8Array): Promise<string | null> {
    const row = await this.prisma.passkeyUserHandle.findUnique({ where: { handle: Buffer.from(handle) } });
    return row?.userId ?? null;
  }

  async listByUser(userId: string): Promise<PasskeyRecord[]> {
    return (await this.prisma.passkey.findMany({ where: { userId }, orderBy: { createdAt: "asc" } })).map(toRecord);
  }

  countByUser(userId: string): Promise<number> {
    return this.prisma.passkey.count({ where: { userId } });
  }

  async findByCredentialId(credentialId: string): Promise<PasskeyRecord | null> {
    const row = await this.prisma.passkey.findUnique({ where: { credentialId } });
    return row && toRecord(row);
  }

  async add(passkey: NewPasskey, opts: { liveSession: string }): Promise<PasskeyRecord | "duplicate"> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        await lockLiveSession(tx, passkey.userId, opts.liveSession);
        const row = await tx.passkey.create({ data: { ...passkey, publicKey: Buffer.from(passkey.publicKey), counter: BigInt(passkey.counter) } });
        return toRecord(row);
      });
    } catch (e) {
      if (isUniqueViolation(e)) return "duplicate";
      throw e;
    }
  }

  async recordUse(id: string, use: { expectedCounter: number; counter: number; backupState: boolean; at: Date }): Promise<boolean> {
    const { count } = await this.prisma.passkey.updateMany({
      where: { id, counter: BigInt(use.expectedCounter) },
      data: { counter: BigInt(use.counter), backupState: use.backupState, lastUsedAt: use.at },
    });
    return count === 1;
  }

  async rename(userId: string, id: string, name: string, opts: { liveSession: string }): Promise<PasskeyRecord | null> {
    if (!isUuid(id)) return null;
    return this.prisma.$transaction(async (tx) => {
      await lockLiveSession(tx, userId, opts.liveSession);
      const { count } = await tx.passkey.updateMany({ where: { id, userId }, data: { name } });
      if (count !== 1) return null;
      const row = await tx.passkey.findUnique({ where: { id } });
      return row && toRecord(row);
    });
  }

  async remove(userId: string, id: string, opts: { keepOne: boolean; liveSession: string; waysInVersion: number }): Promise<"removed" | "not_found" | "last" | "changed"> {
    if (!isUuid(id)) return "not_found";
    return this.prisma.$transaction(async (tx) => {
      // The user row's lock serializes removals (and additions, and claims) for one user: the
      // count below stays true until commit, and a logout or claim that ended the session wins.
      // It is taken only if no other way in was removed since the caller counted them.
      if (!(await lockForWayRemoval(tx, userId, opts.liveSession, opts.waysInVersion))) return "changed";
      const mine = await tx.passkey.count({ where: { id, userId } });
      if (mine !== 1) return "not_found";
      if (opts.keepOne && (await tx.passkey.count({ where: { userId } })) < 2) return "last";
      await tx.passkey.delete({ where: { id } });
      return "removed";
    });
  }
}
