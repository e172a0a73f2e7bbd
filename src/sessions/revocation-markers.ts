import { isDependencyOutage } from "../core/outage";
import type { AuditLog, Clock, KeyValueStore, SessionRepo } from "../core/ports";

export const revokedKey = (sessionId: string) => `session:revoked:${sessionId}`;

export interface RevocationMarkersDeps {
  sessions: SessionRepo;
  store: KeyValueStore;
  audit: AuditLog;
  clock: Clock;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** A marker outlives every access token issued before its revocation. */
  accessTtlSeconds: number;
  /** Waits between sync attempts: doubled from `baseDelayMs` up to `maxDelayMs`. */
  retry?: { baseDelayMs: number; maxDelayMs: number };
  /**
   * A sync also runs this often when nothing failed here: it covers an instance that lost
   * a marker and crashed before its own sync, and a store restarted without persistence.
   */
  periodMs?: number;
}

/** Short enough that another instance trusts a missing marker for a moment only once the store is back. */
const DEFAULT_RETRY = { baseDelayMs: 200, maxDelayMs: 2_000 };
/** One indexed query a minute per instance. */
const DEFAULT_PERIOD_MS = 60_000;
/** Markers written at once by a sync. */
const BATCH = 100;

/**
 * The store's copies of Postgres' revocations. Postgres (sessions.revoked_at) is the truth;
 * a marker in the store is what `authenticate` checks on every request, so that a revoked
 * session's access tokens stop at once on every instance. A marker the store could not take
 * (an outage) does not fail the revocation: a sync writes every recent revocation's marker
 * once the store answers, retried with backoff, and once at start (a crash between the two
 * writes). Until a sync has covered every failure seen here, `pending` is true and
 * `authenticate` also reads the session row.
 */
export class RevocationMarkers {
  private readonly retry: { baseDelayMs: number; maxDelayMs: number };
  /** Bumped at each failure: a sync that began before the last one does not cover it. */
  private failures = 0;
  /** The failures count the last successful sync began at; -1 until the start sync. */
  private syncedAt = -1;
  /** Failed writes and syncs since the last successful sync, for its audit row. */
  private failedSince: { writes: number; syncs: number; since: Date } | null = null;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private timerDue = 0;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly d: RevocationMarkersDeps) {
    this.retry = d.retry ?? DEFAULT_RETRY;
  }

  /** Whether a revocation may lack its marker here: true until a sync covered every failure. */
  get pending(): boolean {
    return this.syncedAt !== this.failures;
  }

  /** The start sync: covers a crash between a revocation and its marker. */
  start(): void {
    this.schedule(0);
  }

  /**
   * Writes a revoked session's marker. During a store outage it answers false instead of
   * throwing: the revocation stands (Postgres has it) and a sync writes the marker later.
   */
  async write(sessionId: string, reason: string): Promise<boolean> {
    let err: unknown;
    // While the store is failing, the coming sync writes it: no revocation waits out a timeout.
    if (!this.failedSince) {
      try {
        await this.d.store.set(revokedKey(sessionId), reason, this.d.accessTtlSeconds * 1000);
        return true;
      } catch (error) {
        if (!isDependencyOutage(error)) throw error;
        err = error;
      }
    }
    this.d.log.warn({ err, sessionId }, "revocation marker not written: retried until the store answers");
    this.failed("writes");
    return false;
  }

  /**
   * The store failed here for something else (authenticate): another instance may have
   * revoked a session meanwhile without its marker, so this one syncs too once it can.
   */
  storeFailed(): void {
    this.failed(null);
  }

  /** Stops retrying; a marker still missing is written by the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private failed(kind: "writes" | "syncs" | null): void {
    this.failures++;
    this.failedSince ??= { writes: 0, syncs: 0, since: this.d.clock.now() };
    if (kind) this.failedSince[kind]++;
    this.schedule(this.backoff());
  }

  private backoff(): number {
    return Math.min(this.retry.baseDelayMs * 2 ** this.attempt, this.retry.maxDelayMs);
  }

  /** One timer at a time, and no sync while one runs (it reschedules itself when it ends). */
  private schedule(delayMs: number): void {
    if (this.stopped || this.running) return;
    // A failure must not wait for the next periodic sync: the sooner timer wins.
    if (this.timer && this.timerDue <= Date.now() + delayMs) return;
    clearTimeout(this.timer);
    this.timerDue = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.syncOnce().finally(() => (this.running = undefined));
    }, delayMs);
    this.timer.unref();
  }

  private async syncOnce(): Promise<void> {
    const covers = this.failures;
    let written: number;
    try {
      written = await this.sync();
    } catch (error) {
      this.d.log.warn({ err: error }, "revocation marker sync failed: retrying");
      this.attempt++;
      this.failedSince ??= { writes: 0, syncs: 0, since: this.d.clock.now() };
      this.failedSince.syncs++;
      this.running = undefined;
      this.schedule(this.backoff());
      return;
    }
    this.attempt = 0;
    this.syncedAt = covers;
    const after = this.failedSince;
    if (this.pending) {
      // Something failed while this sync ran: it may have missed that revocation.
      this.running = undefined;
      this.schedule(this.retry.baseDelayMs);
      return;
    }
    this.failedSince = null;
    this.running = undefined;
    this.schedule(this.d.periodMs ?? DEFAULT_PERIOD_MS);
    const detail = { markers: written, ...(after && { failedWrites: after.writes, failedSyncs: after.syncs, since: after.since.toISOString() }) };
    if (!after) return;
    this.d.log.info(detail, "revocation markers synced after a store failure");
    await this.d.audit.record({ type: "session.revocation_marker_synced", ok: true, detail }).catch((error: unknown) => {
      this.d.log.warn({ err: error }, "revocation marker sync not audited");
    });
  }

  /** Writes the marker of every session revoked within one access-token lifetime; how many. */
  private async sync(): Promise<number> {
    const ttlMs = this.d.accessTtlSeconds * 1000;
    const revoked = await this.d.sessions.listRevokedSince(new Date(this.d.clock.now().getTime() - ttlMs));
    for (let i = 0; i < revoked.length; i += BATCH) {
      await Promise.all(revoked.slice(i, i + BATCH).map((s) => this.d.store.set(revokedKey(s.id), s.reason, ttlMs)));
    }
    return revoked.length;
  }
}
