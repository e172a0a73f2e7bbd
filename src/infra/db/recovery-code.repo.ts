import type { RecoveryCodeRepo } from "../../methods/recovery-codes/recovery-code.repo";
import type { PrismaClient } from "./generated/client";

export class PrismaRecoveryCodeRepo implements RecoveryCodeRepo {
  constructor(private readonly prisma: PrismaClient) {}

  async replaceAll(userId: string, codeHashes: string[]): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.recoveryCode.deleteMany({ where: { userId } }),
      this.prisma.recoveryCode.createMany({ data: codeHashes.map((codeHash) => ({ userId, codeHash })) }),
    ]);
  }

  listUnused(userId: string): Promise<Array<{ id: string; codeHash: string }>> {
    return this.prisma.recoveryCode.findMany({ where: { userId, usedAt: null }, select: { id: true, codeHash: true } });
  }

  async markUsed(id: string, now: Date): Promise<boolean> {
    // Conditional: of two concurrent uses of one code, only one sees count 1.
    const { count } = await this.prisma.recoveryCode.updateMany({ where: { id, usedAt: null }, data: { usedAt: now } });
    return count === 1;
  }

  countUnused(userId: string): Promise<number> {
    return this.prisma.recoveryCode.count({ where: { userId, usedAt: null } });
  }

  async removeAll(userId: string): Promise<void> {
    await this.prisma.recoveryCode.deleteMany({ where: { userId } });
  }
}
