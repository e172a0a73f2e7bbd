import type { TotpFactorRecord, TotpRepo } from "../../methods/totp/totp.repo";
import type { PrismaClient, TotpFactor } from "./generated/client";
import { lockLiveSession } from "./live-session";

const toRecord = (f: TotpFactor): TotpFactorRecord => ({ ...f, lastStep: f.lastStep === null ? null : Number(f.lastStep) });

export class PrismaTotpRepo implements TotpRepo {
  constructor(private readonly prisma: PrismaClient) {}

  async find(userId: string): Promise<TotpFactorRecord | null> {
    const row = await this.prisma.totpFactor.findUnique({ where: { userId } });
    return row && toRecord(row);
  }

  async activate(userId: string, secretSealed: string, step: number, opts: { liveSession: string }): Promise<void> {
    const data = { secretSealed, confirmedAt: new Date(), lastStep: BigInt(step), driftSteps: 0, driftStreak: 0 };
    await this.prisma.$transaction(async (tx) => {
      await lockLiveSession(tx, userId, opts.liveSession);
      await tx.totpFactor.upsert({ where: { userId }, create: { userId, ...data }, update: data });
      // A sign-in that read the account before the app was on must not get a session without it.
      await tx.user.update({ where: { id: userId }, data: { totpEnabled: true, credentialsVersion: { increment: 1 } } });
    });
  }

  async acceptStep(userId: string, step: number, drift: { steps: number; streak: number }): Promise<boolean> {
    // The condition is the replay guard: an equal or earlier step never passes twice.
    const { count } = await this.prisma.totpFactor.updateMany({
      where: { userId, OR: [{ lastStep: null }, { lastStep: { lt: BigInt(step) } }] },
      data: { lastStep: BigInt(step), driftSteps: drift.steps, driftStreak: drift.streak },
    });
    return count === 1;
  }

  async reseal(userId: string, secretSealed: string): Promise<void> {
    await this.prisma.totpFactor.updateMany({ where: { userId }, data: { secretSealed } });
  }

  async remove(userId: string): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.totpFactor.deleteMany({ where: { userId } }),
      this.prisma.user.update({ where: { id: userId }, data: { totpEnabled: false } }),
    ]);
  }
}
