/**
 * What the services need from the outside world. `infra/*` implements these and only
 * `main.ts` wires them in, so a sign-in method never imports ioredis, Prisma or a sender.
 */

/** Time, injectable so expiry can be tested without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A short-lived key-value store with TTLs and atomic scripts: Redis when `REDIS_URL` is
 * set, an in-process map otherwise (single instance only). Codes, limits and revocations
 * live here; nothing in it must outlive its TTL.
 */
export interface KeyValueStore {
  readonly kind: "redis" | "memory";
  get(key: string): Promise<string | null>;
  /** Sets `key` to `value` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes keys; returns how many existed. */
  del(...keys: string[]): Promise<number>;
  /**
   * Counts one event in a fixed window that starts at the first event: the counter
   * expires `windowMs` after it was created. Returns the new count and the ms left.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /**
   * Runs an atomic script: its Lua on Redis, its JavaScript twin in process. Several KEYS
   * must share one hash tag (`x:{tag}:a`, `y:{tag}:b`), the Redis Cluster rule: both stores refuse otherwise.
   */
  run<T>(script: AtomicScript<T>, keys: string[], args: Array<string | number>): Promise<T>;
  /** Resolves when the store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The Redis commands an in-process script twin may use, synchronously. */
export interface LocalCommands {
  get(key: string): string | null;
  /** `px` in milliseconds; without it the key keeps no TTL. */
  set(key: string, value: string, px?: number): void;
  del(key: string): number;
  exists(key: string): boolean;
  incrby(key: string, by: number): number;
  pexpire(key: string, ms: number): boolean;
  /** Like Redis: -2 when missing, -1 when the key has no TTL. */
  pttl(key: string): number;
  hget(key: string, field: string): string | null;
  hset(key: string, field: string, value: string): void;
  /** Like Redis: 1 if the field was there, else 0; a hash left empty is deleted. */
  hdel(key: string, field: string): number;
  hincrby(key: string, field: string, by: number): number;
  hgetall(key: string): Record<string, string>;
}

/**
 * One atomic operation written twice: `lua` for Redis and `local` for the in-process
 * store. Both return the same raw reply shape (integers, strings, arrays, null), which
 * `parse` turns into `T`, so the store contract suite can hold them to the same results.
 */
export interface AtomicScript<T> {
  readonly name: string;
  readonly lua: string;
  local(redis: LocalCommands, keys: string[], args: string[]): unknown;
  parse(reply: unknown): T;
}

/** Topic-based pub/sub: Redis pub/sub across instances, or in-process. */
/** What a bus listener gets after the bus lost and regained its broker. */
export interface BusResync {
  resync: true;
}

export const BUS_RESYNC: BusResync = Object.freeze({ resync: true });

export interface EventBus {
  publish(topic: string, payload: object): Promise<void>;
  /**
   * Resolves once listening: nothing published afterwards is missed, except while the bus
   * is cut off from its broker; once it is back, every listener gets a `BusResync` (what
   * was published meanwhile is lost: read the state again).
   */
  listen<T>(topic: string): Promise<AsyncIterableIterator<T | BusResync>>;
  close(): Promise<void>;
}

/** A person's account as the services see it. */
export interface UserRecord {
  id: string;
  email: string | null;
  emailVerified: boolean;
  phone: string | null;
  phoneVerified: boolean;
  passwordHash: string | null;
  totpEnabled: boolean;
  /** Raised by a claim; a sign-in checked under an older value makes no session. */
  credentialsVersion: number;
  /** Raised by every removal of a way in; a removal counted under an older value counts again. */
  waysInVersion: number;
  createdAt: Date;
}

export interface NewUser {
  email?: string;
  emailVerified?: boolean;
  phone?: string;
  phoneVerified?: boolean;
  passwordHash?: string;
}

/** An email address or phone number (E.164) of an account. */
export interface Contact {
  kind: "email" | "phone";
  address: string;
}

export interface UserRepo {
  findById(id: string): Promise<UserRecord | null>;
  /** Users by id in one query; missing ids are simply absent. */
  findByIds(ids: readonly string[]): Promise<UserRecord[]>;
  findByEmail(email: string): Promise<UserRecord | null>;
  findByPhone(phone: string): Promise<UserRecord | null>;
  /** Null when the email or phone is already taken (a unique-constraint race included). */
  create(user: NewUser): Promise<UserRecord | null>;
  /**
   * The account holding `contact`, proven there or not; or else a new account on which it
   * is proven (`created`). Null when a concurrent sign-up for it committed meanwhile: read again.
   */
  findOrCreateByContact(contact: Contact): Promise<{ user: UserRecord; created: boolean } | null>;
  /**
   * Null when the new email or phone is taken by another account. With `liveSession` (a
   * change the signed-in user asked for) it is written only while that session is live,
   * so a claim that ends the session cannot be followed by its change: UNAUTHENTICATED.
   */
  update(id: string, patch: UserPatch, opts?: UserUpdateOptions): Promise<UserRecord | null>;
  /**
   * Hands an account on which nothing was ever proven to the person who just proved
   * `contact` on it (pre-account hijacking), in one transaction: the address becomes
   * verified, and everything its creator set is gone (password, the other contact, TOTP,
   * recovery codes); its live sessions are revoked. Null when the account changed meanwhile
   * (a concurrent claim won, or something got proven): read it again.
   */
  claimUnproven(id: string, contact: Contact, now: Date): Promise<{ user: UserRecord; revokedSessionIds: string[] } | null>;
  /**
   * Moves `contact`, unproven on account `fromId`, to the person who proved it, in one
   * transaction: off `fromId`, and verified onto account `toId`, or onto a new account when
   * `toId` is null. Null when it is no longer unproven there or the target lost a race for
   * the address: read again. `liveSession` as for update.
   */
  moveUnprovenContact(fromId: string, contact: Contact, toId: string | null, opts?: { liveSession?: string }): Promise<UserRecord | null>;
}

export interface UserUpdateOptions {
  /** Only while this session is live (the change is refused with UNAUTHENTICATED once it ended). */
  liveSession?: string;
  /**
   * Raises credentials_version with the change: a sign-in that checked the credentials
   * before (a login already past the password, an mfaToken) gets no session.
   */
  endSignInsInFlight?: boolean;
}

export interface UserPatch {
  email?: string;
  emailVerified?: boolean;
  phone?: string;
  phoneVerified?: boolean;
  passwordHash?: string | null;
}

/** Where a request came from, for sessions and the audit trail. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export type Aal = "aal1" | "aal2";

export interface SessionRecord {
  id: string;
  userId: string;
  aal: Aal;
  amr: string[];
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  /** The last sign-in, refresh or step-up (idle timeouts count from here). */
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  /** When a second factor was last proven; null at aal1. */
  aal2At: Date | null;
  /** The amr of the first factor alone: the session's amr once its aal2 lapses. */
  firstFactorAmr: string[];
}

export interface NewSession {
  userId: string;
  aal: Aal;
  amr: string[];
  firstFactorAmr: string[];
  client: ClientInfo;
  /** The gateway's clock: lastUsedAt, and aal2At for an aal2 session. */
  now: Date;
  expiresAt: Date;
  refreshTokenHash: string;
  /** The user's credentialsVersion when the factors were checked. */
  credentialsVersion: number;
}

export interface SessionRepo {
  /**
   * Creates the session with its first refresh token and its `session.created` audit event
   * (detail: sessionId, aal, amr), together: no session without its row in the trail, and
   * one round trip for both. Null when the user's credentialsVersion is no longer the one
   * the factors were checked under (a claim happened meanwhile). Serialized with claims,
   * so none can miss the new session.
   */
  create(session: NewSession): Promise<SessionRecord | null>;
  findById(id: string): Promise<SessionRecord | null>;
  /** The refresh token (by hash) and its session, whether or not it was rotated already. */
  findByRefreshTokenHash(hash: string): Promise<{ rotatedAt: Date | null; tokenId: string; session: SessionRecord } | null>;
  /**
   * Marks the token rotated and stores its successor in one transaction. "reused" when the
   * token was rotated meanwhile (a concurrent use: the caller treats that as reuse), "ended"
   * when the session was revoked meanwhile.
   */
  rotate(tokenId: string, sessionId: string, nextHash: string, client: ClientInfo, now: Date, lapse?: AalLapse): Promise<"rotated" | "reused" | "ended">;
  /** Raises a live session to aal2 at `now` (step-up) and adds methods to its amr; null once revoked. */
  elevate(sessionId: string, amr: string[], now: Date): Promise<SessionRecord | null>;
  /** Retires every refresh token of the session and gives it this one (after a step-up). */
  reissue(sessionId: string, nextHash: string, now: Date): Promise<void>;
  /** False when it was already revoked or does not exist. */
  revoke(sessionId: string, reason: string, now: Date): Promise<boolean>;
  /** Live sessions (not revoked, not expired; used after `usedAfter` when given), newest first. */
  listActive(userId: string, now: Date, usedAfter?: Date): Promise<SessionRecord[]>;
  /** Every session revoked at or after `since`, with the reason (for the revocation markers). */
  listRevokedSince(since: Date): Promise<RevokedSession[]>;
}

export interface RevokedSession {
  id: string;
  reason: string;
}

/** A rotation that also takes a session whose aal2 lapsed back to aal1 with this amr. */
export interface AalLapse {
  amr: string[];
}

export interface AuthEventInput {
  type: string;
  ok: boolean;
  userId?: string | null;
  client?: ClientInfo;
  /** Never a secret: no codes, tokens or passwords. */
  detail?: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuthEventInput): Promise<void>;
}

/** A message for a person: an email, an SMS, or a voice call reading a code. */
export interface OutgoingMessage {
  channel: "email" | "sms" | "voice";
  /** Email address or E.164 number. */
  to: string;
  /** Email only. */
  subject?: string;
  text: string;
  /** Email only. */
  html?: string;
  /** What it is for (e.g. "otp.sign_in"), for the audit trail; never the secret itself. */
  purpose: string;
  userId?: string | null;
  /**
   * When it stops being of use (its code or link expires), in ms since the epoch: the queue
   * retries it until then however many attempts that takes, and never sends it later.
   * Unset (a notice): retried up to the policy's `maxAttempts`.
   */
  expiresAt?: number;
}

/**
 * Hands messages to a durable queue so that no mutation waits on a mail or SMS provider;
 * workers deliver them with retries, and every final failure is audited.
 */
export interface DeliveryQueue {
  enqueue(message: OutgoingMessage): Promise<void>;
  close(): Promise<void>;
}

/**
 * The Postgres tables the services use, one port each, over one handle (infra/db's
 * prismaRepositories). A method that owns a table declares its port beside its code and
 * adds it here by declaration merging (`declare module "…/core/ports"`), so a new table
 * touches its port, its Prisma repo and the repositories list only.
 */
export interface Repositories {
  users: UserRepo;
  sessions: SessionRepo;
}

/** How a refresh-token rotation ended, for the refresh counter. */
export type RefreshOutcome = "rotated" | "invalid" | "reused" | "idle_timeout";

/**
 * Counters for operators (Prometheus at /metrics when METRICS_PORT is set). Calls are
 * synchronous, cheap and never throw. Every label value is one of a set named in code
 * (a method, a limit's name, a channel), never something a client wrote.
 */
export interface Metrics {
  /** A sign-in attempt's end: `outcome` is "authenticated", "mfa_required" or an error code. */
  signInAttempt(method: string, outcome: string): void;
  /** A rate limit refused a request (`limit` is the limiter's name, e.g. "login:failed"). */
  rateLimited(limit: string): void;
  refreshed(outcome: RefreshOutcome): void;
  /** Every audit event as it is recorded; the audit decorator derives the rest from these. */
  auditEvent(event: AuthEventInput): void;
  /** A message left the gateway (`sent`) or was given up on for good (`failed`). */
  delivery(channel: OutgoingMessage["channel"], outcome: "sent" | "retried" | "failed"): void;
}

/** Counts nothing (unit specs, tools). */
export const noMetrics: Metrics = {
  signInAttempt: () => {},
  rateLimited: () => {},
  refreshed: () => {},
  auditEvent: () => {},
  delivery: () => {},
};
