import type { Repositories } from "../../core/ports";
import type { Database } from "./database";
import { PrismaPasskeyRepo } from "./passkey.repo";
import { PrismaIdentityRepo } from "./identity.repo";
import { PrismaRecoveryCodeRepo } from "./recovery-code.repo";
import { PrismaSessionRepo } from "./session.repo";
import { PrismaTotpRepo } from "./totp.repo";
import { PrismaUserRepo } from "./user.repo";

/** The repositories list: every table's port over one Prisma client (a new table is one line here). */
export function prismaRepositories({ prisma, sql }: Pick<Database, "prisma" | "sql">): Repositories {
  return {
    users: new PrismaUserRepo(prisma, sql),
    sessions: new PrismaSessionRepo(prisma, sql),
    totpFactors: new PrismaTotpRepo(prisma),
    recoveryCodes: new PrismaRecoveryCodeRepo(prisma),
    passkeys: new PrismaPasskeyRepo(prisma),
    identities: new PrismaIdentityRepo(prisma),
  };
}
