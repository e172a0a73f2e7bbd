import type { AuditLog, AuthEventInput } from "../../core/ports";
import type { PrismaClient } from "./generated/client";

export class PrismaAuditLog implements AuditLog {
  constructor(private readonly prisma: PrismaClient) {}

  async record(e: AuthEventInput): Promise<void> {
    await this.prisma.authEvent.create({
      data: {
        type: e.type,
        ok: e.ok,
        userId: e.userId ?? null,
        ip: e.client?.ip ?? null,
        userAgent: e.client?.userAgent ?? null,
        detail: (e.detail ?? undefined) as object | undefined,
      },
    });
  }
}
