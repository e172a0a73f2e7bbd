import { PrismaAuditLog } from "./audit.log";
import type { PrismaClient } from "./generated/client";
import { PrismaRecoveryCodeRepo } from "./recovery-code.repo";
import { PrismaSessionRepo } from "./session.repo";
import { PrismaTotpRepo } from "./totp.repo";
import { PrismaUserRepo } from "./user.repo";

/** Every Postgres-backed port the gateway needs, over one Prisma client. */
export function prismaRepositories(prisma: PrismaClient) {
  return {
    users: new PrismaUserRepo(prisma),
    sessions: new PrismaSessionRepo(prisma),
    totpFactors: new PrismaTotpRepo(prisma),
    recoveryCodes: new PrismaRecoveryCodeRepo(prisma),
    audit: new PrismaAuditLog(prisma),
  };
}
