import type { AuditLog, AuthEventInput } from "../../src/core/ports";

/** The AuditLog port kept in memory: our own port, so a fake is the real thing here. */
export class MemoryAuditLog implements AuditLog {
  readonly events: AuthEventInput[] = [];

  async record(event: AuthEventInput): Promise<void> {
    this.events.push(event);
  }

  ofType(type: string): AuthEventInput[] {
    return this.events.filter((e) => e.type === type);
  }
}
