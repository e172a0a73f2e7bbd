import type { NewUser, UserPatch, UserRecord, UserRepo } from "../../core/ports";
import { Prisma, type PrismaClient } from "./generated/client";
import { isUuid } from "./uuid";

const isUniqueViolation = (e: unknown) => e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";

export class PrismaUserRepo implements UserRepo {
  constructor(private readonly prisma: PrismaClient) {}

  findById(id: string): Promise<UserRecord | null> {
    return isUuid(id) ? this.prisma.user.findUnique({ where: { id } }) : Promise.resolve(null);
  }

  findByIds(ids: readonly string[]): Promise<UserRecord[]> {
    // Ids that are not UUIDs cannot exist, and would make Postgres reject the whole query.
    const valid = ids.filter(isUuid);
    return valid.length ? this.prisma.user.findMany({ where: { id: { in: valid } } }) : Promise.resolve([]);
  }

  findByEmail(email: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { email } });
  }

  findByPhone(phone: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { phone } });
  }

  async create(user: NewUser): Promise<UserRecord | null> {
    try {
      return await this.prisma.user.create({ data: user });
    } catch (e) {
      if (isUniqueViolation(e)) return null;
      throw e;
    }
  }

  async update(id: string, patch: UserPatch): Promise<UserRecord | null> {
    try {
      return await this.prisma.user.update({ where: { id }, data: patch });
    } catch (e) {
      if (isUniqueViolation(e)) return null;
      throw e;
    }
  }
}
