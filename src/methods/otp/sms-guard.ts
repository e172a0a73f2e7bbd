import { sourceBlock } from "../../core/client-info";
import { rateLimited } from "../../core/errors";
import { keyPart } from "../../core/rate-limit";
import { noMetrics, type AuditLog, type ClientInfo, type Clock, type KeyValueStore, type Metrics } from "../../core/ports";
import { defaultsOf } from "../../config/section";
import { smsSettings, type SmsSettings } from "./otp.settings";
import { admitSms, countVerifiedSms } from "./sms-guard.scripts";

/** The SMS guard's settings (SMS_DAILY_BUDGET_PER_COUNTRY, SMS_PREFIX_*, SMS_BREAKER_*), declared in otp.settings.ts. */
export type SmsGuardSettings = SmsSettings["guard"];

export const SMS_GUARD_DEFAULTS: SmsGuardSettings = defaultsOf(smsSettings).guard;

export type SmsGuardRule = "budget" | "velocity" | "breaker";

/** An SMS or voice destination: an E.164 number and its country, when known. */
export interface SmsDestination {
  address: string;
  country?: string;
}

/** Where numbers whose country is unknown are counted. */
export const UNKNOWN_COUNTRY = "ZZ";
const DAY_MS = 86_400_000;
/** Keys outlive their window a little, so instances whose clocks differ slightly still agree. */
const KEY_SLACK_MS = 60_000;

const TRIP_MESSAGES: Record<SmsGuardRule, string> = {
  budget: "SMS guard: the country's daily SMS budget is spent",
  velocity: "SMS guard: too many SMS to one block of numbers",
  breaker: "SMS guard: most codes sent to the country were never verified, its SMS are paused",
};

/**
 * Admits each code sent by SMS or voice against a per-country daily budget, a velocity
 * limit per number block and a per-country breaker on the share of unverified codes.
 * Windows are fixed and named by the clock (the UTC day, the window's index), so every
 * instance sharing the store counts into the same keys. Each trip is logged (country and
 * masked block only, never a number) and audited once per window.
 */
export class SmsGuard {
  constructor(
    private readonly store: KeyValueStore,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly log: { warn(obj: object, msg: string): void },
    private readonly settings: SmsGuardSettings,
    /** Counts every refusal by rule ("sms:guard:budget"…); the audit has only the first per window. */
    private readonly metrics: Metrics = noMetrics,
  ) {
    const positive = (name: string, v: number) => {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`SmsGuard: ${name} must be a positive integer, got ${v}`);
    };
    positive("dailyBudgetPerCountry", settings.dailyBudgetPerCountry);
    positive("prefixVelocity.max", settings.prefixVelocity.max);
    positive("prefixVelocity.windowSeconds", settings.prefixVelocity.windowSeconds);
    positive("prefixDigits", settings.prefixDigits);
    positive("breaker.minSamples", settings.breaker.minSamples);
    positive("breaker.windowSeconds", settings.breaker.windowSeconds);
    positive("breaker.pauseSeconds", settings.breaker.pauseSeconds);
    positive("breaker.maxSamplesPerSource", settings.breaker.maxSamplesPerSource);
    const ratio = settings.breaker.unverifiedRatio;
    if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`SmsGuard: breaker.unverifiedRatio must be in (0, 1], got ${ratio}`);
  }

  /** Before a code is sent by SMS or voice: RATE_LIMITED (with retryAfter) when a limit trips; counts the send when admitted. */
  async admit(d: SmsDestination, client: ClientInfo): Promise<void> {
    const now = this.clock.now().getTime();
    const country = countryOf(d);
    const prefix = this.prefixOf(d.address);
    const day = dayWindow(now);
    const breaker = fixedWindow(now, this.settings.breaker.windowSeconds);
    const velocity = fixedWindow(now, this.settings.prefixVelocity.windowSeconds);
    const pauseMs = this.settings.breaker.pauseSeconds * 1000;
    const { unverifiedRatio, minSamples, maxSamplesPerSource } = this.settings.breaker;
    const source = sourceBlock(client.ip);

    const [status, pausedUntil] = await this.store.run(
      admitSms,
      [pauseKey(country), breakerKey(country, breaker.id), budgetKey(country, day.id), velocityKey(country, prefix, velocity.id), breakerSourceKey(country, source, breaker.id)],
      [
        now,
        now + pauseMs,
        pauseMs + KEY_SLACK_MS,
        minSamples,
        unverifiedRatio,
        breaker.resetInMs + KEY_SLACK_MS,
        this.settings.dailyBudgetPerCountry,
        day.resetInMs + KEY_SLACK_MS,
        this.settings.prefixVelocity.max,
        velocity.resetInMs + KEY_SLACK_MS,
        maxSamplesPerSource,
      ],
    );
    if (status !== "OK") this.metrics.rateLimited(`sms:guard:${status.toLowerCase()}`);
    switch (status) {
      case "OK":
        return;
      case "PAUSED":
        throw rateLimited(Number(pausedUntil) - now);
      case "BREAKER":
        // The script opened the pause for this call alone: report it once, no marker needed.
        await this.reportTrip("breaker", country, undefined, client, pauseMs);
        throw rateLimited(pauseMs);
      case "BUDGET":
        await this.reportFirstRefusal(`sms:guard:reported:budget:${country}:${day.id}`, day.resetInMs, () =>
          this.reportTrip("budget", country, undefined, client, day.resetInMs),
        );
        throw rateLimited(day.resetInMs);
      case "VELOCITY":
        await this.reportFirstRefusal(`sms:guard:reported:velocity:${keyPart(prefix)}:${velocity.id}`, velocity.resetInMs, () =>
          this.reportTrip("velocity", country, prefix, client, velocity.resetInMs),
        );
        throw rateLimited(velocity.resetInMs);
    }
  }

  /**
   * After a code sent to that country was verified: feeds the breaker, credited to the
   * source block that asked for the code (`sourceBlock` of its IP) and only up to the
   * samples that block added, so one source cannot verify a country's breaker shut.
   */
  async recordVerified(d: SmsDestination, source: string): Promise<void> {
    const now = this.clock.now().getTime();
    const breaker = fixedWindow(now, this.settings.breaker.windowSeconds);
    const country = countryOf(d);
    await this.store.run(
      countVerifiedSms,
      [breakerKey(country, breaker.id), breakerSourceKey(country, source, breaker.id)],
      [breaker.resetInMs + KEY_SLACK_MS, this.settings.breaker.maxSamplesPerSource],
    );
  }

  /** The number without its last `prefixDigits` digits (at least the first digit is kept). */
  private prefixOf(address: string): string {
    const digits = address.replace(/\D/g, "");
    return `+${digits.slice(0, Math.max(1, digits.length - this.settings.prefixDigits))}`;
  }

  /** Refusals go on until the window ends; only the first one per window is reported. */
  private async reportFirstRefusal(marker: string, windowLeftMs: number, report: () => Promise<void>): Promise<void> {
    if (await this.store.setIfAbsent(marker, "1", windowLeftMs + KEY_SLACK_MS)) await report();
  }

  private async reportTrip(rule: SmsGuardRule, country: string, prefix: string | undefined, client: ClientInfo, retryMs: number): Promise<void> {
    const block = prefix === undefined ? {} : { prefix: `${prefix}${"*".repeat(this.settings.prefixDigits)}` };
    this.log.warn({ rule, country, ...block, retryAfter: Math.ceil(retryMs / 1000) }, TRIP_MESSAGES[rule]);
    await this.audit.record({ type: "sms.guard.tripped", ok: false, client, detail: { rule, country } });
  }
}

function countryOf(d: SmsDestination): string {
  const country = d.country?.toUpperCase();
  return country && /^[A-Z]{2}$/.test(country) ? country : UNKNOWN_COUNTRY;
}

/** The UTC day as YYYY-MM-DD and the ms left until the next UTC midnight. */
function dayWindow(now: number): { id: string; resetInMs: number } {
  return { id: new Date(now).toISOString().slice(0, 10), resetInMs: DAY_MS - (now % DAY_MS) };
}

/** The fixed window holding `now` (windows start at the epoch) and the ms left in it. */
function fixedWindow(now: number, seconds: number): { id: number; resetInMs: number } {
  const ms = seconds * 1000;
  const id = Math.floor(now / ms);
  return { id, resetInMs: (id + 1) * ms - now };
}


// Every key the scripts touch carries its country as the hash tag, {GB}: one Redis Cluster
// slot per country, so each script's keys sit together. (A number block belongs to one country.)

/** The epoch ms a country's pause ends, while it lasts. */
export const pauseKey = (country: string): string => `sms:guard:{${country}}:pause`;
/** { sent, verified, epoch } for a country in one breaker window; epoch counts its trips. */
export const breakerKey = (country: string, windowId: number): string => `sms:guard:{${country}}:breaker:${windowId}`;
/** { sent, verified, epoch } of one source block for a country in one breaker window. */
export const breakerSourceKey = (country: string, source: string, windowId: number): string =>
  `sms:guard:{${country}}:breaker-source:${keyPart(source)}:${windowId}`;
/** SMS admitted to a country on one UTC day. */
export const budgetKey = (country: string, day: string): string => `sms:guard:{${country}}:budget:${day}`;
/** SMS admitted to one number block (of that country) in one velocity window. */
export const velocityKey = (country: string, prefix: string, windowId: number): string => `sms:guard:{${country}}:velocity:${keyPart(prefix)}:${windowId}`;
