import type { SpineSettings } from "../config/settings";
import type { AuthMethod, SettingsSections, WaysIn } from "../core/auth-method";
import type { AuditLog, Clock, DeliveryQueue, EventBus, KeyValueStore, Metrics, Repositories } from "../core/ports";
import type { RateLimiter } from "../core/rate-limit";
import type { RequestHandler } from "express";
import type { SessionService } from "../sessions/session.service";
import type { AccountService } from "../users/account.service";
import type { RecoveryCodes } from "./recovery-codes/recovery-codes";

/** What the spine hands every sign-in method: ports and shared services, never infra. */
export interface MethodDeps {
  /** The spine's settings; a method's own come as create's second argument. */
  settings: SpineSettings;
  /** Every table's port (users, sessions, and the ones methods add). */
  repositories: Repositories;
  sessions: SessionService;
  /** Passwordless sign-in with a proven email or phone (create or claim the account). */
  accounts: AccountService;
  /** Issued by TOTP enrolment, spent by the recovery-codes method and by disableTotp (methods never import each other). */
  recoveryCodes: RecoveryCodes;
  /** How many ways in an account has across the methods (core/auth-method waysInFor). */
  waysIn: WaysIn;
  /** Plain HTTP routes a method serves beside /graphql (e.g. a link's confirm page). */
  routes: { add(path: string, handler: RequestHandler): void };
  store: KeyValueStore;
  bus: EventBus;
  /** Emails, SMS and calls go out through this queue, never inline. */
  delivery: DeliveryQueue;
  limiter: RateLimiter;
  audit: AuditLog;
  /** Counters for operators; most come from the audit trail, so a method rarely needs it. */
  metrics: Metrics;
  clock: Clock;
  /** For events an operator must see (e.g. a toll-fraud limit tripping); never secrets. */
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** A stable 256-bit secret per purpose, shared by every instance of the deployment. */
  secret(purpose: string): Buffer;
}

/** Declares a method, keeping its settings sections' types (they make up part of `Settings`). */
export const defineMethod = <S extends SettingsSections = {}>(method: AuthMethod<MethodDeps, S>): AuthMethod<MethodDeps, S> => method;
