import type { Settings } from "../config/settings";
import type { AuditLog, Clock, DeliveryQueue, EventBus, KeyValueStore, TotpRepo, UserRepo } from "../core/ports";
import type { RecoveryCodes } from "../core/recovery-codes";
import type { RateLimiter } from "../core/rate-limit";
import type { SessionService } from "../sessions/session.service";

/** What the spine hands every sign-in method: ports and shared services, never infra. */
export interface MethodDeps {
  settings: Settings;
  users: UserRepo;
  sessions: SessionService;
  totpFactors: TotpRepo;
  /** Issued by TOTP enrolment, spent by the recovery-codes method and by disableTotp. */
  recoveryCodes: RecoveryCodes;
  store: KeyValueStore;
  bus: EventBus;
  /** Emails, SMS and calls go out through this queue, never inline. */
  delivery: DeliveryQueue;
  limiter: RateLimiter;
  audit: AuditLog;
  clock: Clock;
  /** For events an operator must see (e.g. a toll-fraud limit tripping); never secrets. */
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** A stable 256-bit secret per purpose, shared by every instance of the deployment. */
  secret(purpose: string): Buffer;
}
