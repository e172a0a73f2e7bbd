import { sourceBlock } from "../../src/core/client-info";
import { AuthError } from "../../src/core/errors";
import type { ClientInfo, KeyValueStore } from "../../src/core/ports";
import { SMS_GUARD_DEFAULTS, SmsGuard, type SmsDestination, type SmsGuardSettings } from "../../src/methods/otp/sms-guard";
import { MemoryAuditLog } from "../helpers/audit";
import { ManualClock } from "./otp-challenge.contract";

export interface SmsGuardStoreUnderTest {
  store: KeyValueStore;
  cleanup: () => Promise<void>;
}

/** What the guard logs, as the logger received it. */
export class CapturingLog {
  readonly entries: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  warn(obj: object, msg: string): void {
    this.entries.push({ obj: obj as Record<string, unknown>, msg });
  }
  ofRule(rule: string) {
    return this.entries.filter((e) => e.obj.rule === rule);
  }
}

/** 22:15 UTC: 2,700 s left in the hour's windows, 6,300 s to midnight. */
export const START = Date.parse("2030-01-01T22:15:00Z");
const TO_MIDNIGHT_S = 6_300;
const TO_HOUR_END_S = 2_700;

/** +44 770 BBB NNNN: `block` names the 10,000-number block (the prefix +44770BBB). */
export const gb = (block: number, n = 0): SmsDestination => ({
  address: `+44770${String(block).padStart(3, "0")}${String(n).padStart(4, "0")}`,
  country: "GB",
});
/** +33 6 BBBB NNNN. */
export const fr = (block: number, n = 0): SmsDestination => ({
  address: `+336${String(block).padStart(4, "0")}${String(n).padStart(4, "0")}`,
  country: "FR",
});

const client: ClientInfo = { ip: "203.0.113.7", userAgent: "pump-bot/1.0" };
/** The source block `client` asks from, as the OTP service credits verifications. */
const CLIENT_SOURCE = sourceBlock(client.ip);
/** A client in source block number `n` (each n its own /24). */
const fromBlock = (n: number, host = 7): ClientInfo => ({ ip: `10.${(n >> 8) & 255}.${n & 255}.${host}`, userAgent: "pump-bot/1.0" });

/** Limits no test reaches unless it sets them. */
const roomy: SmsGuardSettings = {
  dailyBudgetPerCountry: 100_000,
  prefixVelocity: { max: 100_000, windowSeconds: 3600 },
  prefixDigits: 4,
  breaker: { minSamples: 100_000, unverifiedRatio: 0.9, windowSeconds: 3600, pauseSeconds: 3600, maxSamplesPerSource: 100_000 },
};

async function refusal(attempt: Promise<unknown>): Promise<AuthError> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error("expected the guard to refuse");
}

const retryAfterOf = async (attempt: Promise<unknown>): Promise<number | undefined> => {
  const error = await refusal(attempt);
  expect(error.code).toBe("RATE_LIMITED");
  return error.details.retryAfter;
};

/**
 * What `SmsGuard` promises against SMS pumping, run against Redis and the in-process
 * store alike: a day budget per country, a velocity limit per number block, a breaker on
 * unverified codes, each exact under concurrency and each trip reported once.
 */
export function describeSmsGuardContract(name: string, makeStore: (clock: ManualClock) => Promise<SmsGuardStoreUnderTest>): void {
  describe(`SmsGuard contract: ${name}`, () => {
    let subject: SmsGuardStoreUnderTest;
    let clock: ManualClock;
    let audit: MemoryAuditLog;
    let log: CapturingLog;

    const guardWith = (settings: Partial<SmsGuardSettings>) => new SmsGuard(subject.store, clock, audit, log, { ...roomy, ...settings });
    const trips = (rule: string) => audit.ofType("sms.guard.tripped").filter((e) => e.detail?.rule === rule);
    const settle = (guard: SmsGuard, destinations: SmsDestination[]) => Promise.allSettled(destinations.map((d) => guard.admit(d, client)));

    beforeEach(async () => {
      clock = new ManualClock(START);
      subject = await makeStore(clock);
      audit = new MemoryAuditLog();
      log = new CapturingLog();
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    it("admits with the documented defaults", async () => {
      const guard = new SmsGuard(subject.store, clock, audit, log, SMS_GUARD_DEFAULTS);
      await expect(guard.admit(gb(900, 1), client)).resolves.toBeUndefined();
      expect(audit.events).toEqual([]);
    });

    describe("the daily budget per country", () => {
      it("refuses the N+1th SMS until the next UTC midnight, then admits again", async () => {
        const guard = guardWith({ dailyBudgetPerCountry: 5 });
        for (let block = 0; block < 5; block++) await guard.admit(gb(block), client);
        expect(await retryAfterOf(guard.admit(gb(5), client))).toBe(TO_MIDNIGHT_S);
        clock.advance((TO_MIDNIGHT_S - 1) * 1000);
        expect(await retryAfterOf(guard.admit(gb(6), client))).toBe(1);
        clock.advance(1000);
        await expect(guard.admit(gb(7), client)).resolves.toBeUndefined();
      });

      it("counts each country on its own", async () => {
        const guard = guardWith({ dailyBudgetPerCountry: 2 });
        await guard.admit(gb(0), client);
        await guard.admit(gb(1), client);
        await refusal(guard.admit(gb(2), client));
        await expect(guard.admit(fr(0), client)).resolves.toBeUndefined();
        await expect(guard.admit(fr(1), client)).resolves.toBeUndefined();
      });

      it("counts numbers without a country under ZZ", async () => {
        const guard = guardWith({ dailyBudgetPerCountry: 2 });
        await guard.admit({ address: "+80012345678" }, client);
        await guard.admit({ address: "+80012355678" }, client);
        expect(await retryAfterOf(guard.admit({ address: "+80012365678" }, client))).toBe(TO_MIDNIGHT_S);
        expect(trips("budget").map((e) => e.detail)).toEqual([{ rule: "budget", country: "ZZ" }]);
        await expect(guard.admit(gb(0), client)).resolves.toBeUndefined();
      });

      it("audits and logs the first refusal per country and day only", async () => {
        const guard = guardWith({ dailyBudgetPerCountry: 1 });
        await guard.admit(gb(0), client);
        for (let block = 1; block <= 3; block++) await refusal(guard.admit(gb(block), client));
        expect(audit.ofType("sms.guard.tripped")).toEqual([{ type: "sms.guard.tripped", ok: false, client, detail: { rule: "budget", country: "GB" } }]);
        expect(log.ofRule("budget")).toHaveLength(1);
        expect(log.ofRule("budget")[0].obj).toMatchObject({ rule: "budget", country: "GB", retryAfter: TO_MIDNIGHT_S });

        clock.advance(TO_MIDNIGHT_S * 1000);
        await guard.admit(gb(4), client);
        await refusal(guard.admit(gb(5), client));
        expect(trips("budget")).toHaveLength(2);
      });

      it("lets exactly the budget through out of 50 concurrent requests", async () => {
        const guard = guardWith({ dailyBudgetPerCountry: 10 });
        const results = await settle(guard, Array.from({ length: 50 }, (_, block) => gb(block)));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
        const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
        expect(refused).toHaveLength(40);
        for (const e of refused) expect(e).toMatchObject({ code: "RATE_LIMITED", details: { retryAfter: TO_MIDNIGHT_S } });
        expect(trips("budget")).toHaveLength(1);
      });
    });

    describe("the velocity limit per number block", () => {
      it("refuses a block over its limit while another block passes, until the window ends", async () => {
        const guard = guardWith({ prefixVelocity: { max: 3, windowSeconds: 3600 } });
        for (let n = 1; n <= 3; n++) await guard.admit(gb(900, n), client);
        expect(await retryAfterOf(guard.admit(gb(900, 4), client))).toBe(TO_HOUR_END_S);
        expect(await retryAfterOf(guard.admit(gb(900, 9999), client))).toBe(TO_HOUR_END_S);
        await expect(guard.admit(gb(901, 4), client)).resolves.toBeUndefined();
        clock.advance(TO_HOUR_END_S * 1000);
        await expect(guard.admit(gb(900, 5), client)).resolves.toBeUndefined();
      });

      it("lets exactly the limit through out of 50 concurrent requests to one block", async () => {
        const guard = guardWith({ prefixVelocity: { max: 10, windowSeconds: 3600 } });
        const results = await settle(guard, Array.from({ length: 50 }, (_, n) => gb(900, n)));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
        expect(results.filter((r) => r.status === "rejected")).toHaveLength(40);
        expect(trips("velocity")).toHaveLength(1);
      });

      it("audits the first refusal per block and window, and logs the block masked", async () => {
        const guard = guardWith({ prefixVelocity: { max: 1, windowSeconds: 3600 } });
        await guard.admit(gb(900, 1), client);
        await refusal(guard.admit(gb(900, 2), client));
        await refusal(guard.admit(gb(900, 3), client));
        await guard.admit(gb(901, 1), client);
        await refusal(guard.admit(gb(901, 2), client));
        expect(trips("velocity")).toEqual([
          { type: "sms.guard.tripped", ok: false, client, detail: { rule: "velocity", country: "GB" } },
          { type: "sms.guard.tripped", ok: false, client, detail: { rule: "velocity", country: "GB" } },
        ]);
        expect(log.ofRule("velocity").map((e) => e.obj)).toEqual([
          { rule: "velocity", country: "GB", prefix: "+44770900****", retryAfter: TO_HOUR_END_S },
          { rule: "velocity", country: "GB", prefix: "+44770901****", retryAfter: TO_HOUR_END_S },
        ]);
      });

      it("does not spend the country's budget on refused sends", async () => {
        const guard = guardWith({ dailyBudgetPerCountry: 3, prefixVelocity: { max: 1, windowSeconds: 3600 } });
        await guard.admit(gb(900, 1), client);
        for (let n = 2; n < 10; n++) await refusal(guard.admit(gb(900, n), client));
        await expect(guard.admit(gb(901), client)).resolves.toBeUndefined();
        await expect(guard.admit(gb(902), client)).resolves.toBeUndefined();
      });
    });

    describe("the breaker per country", () => {
      // One source may add every sample here: these cases weigh the counts themselves.
      const breaker = { minSamples: 20, unverifiedRatio: 0.9, windowSeconds: 3600, pauseSeconds: 3600, maxSamplesPerSource: 100_000 };

      it("opens after minSamples unverified codes, audited once under 50 concurrent requests", async () => {
        const guard = guardWith({ breaker });
        const results = await settle(guard, Array.from({ length: 50 }, (_, block) => gb(block)));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(20);
        const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
        expect(refused).toHaveLength(30);
        for (const e of refused) expect(e).toMatchObject({ code: "RATE_LIMITED", details: { retryAfter: 3600 } });
        expect(audit.ofType("sms.guard.tripped")).toEqual([{ type: "sms.guard.tripped", ok: false, client, detail: { rule: "breaker", country: "GB" } }]);
        expect(log.ofRule("breaker")).toHaveLength(1);
        expect(log.ofRule("breaker")[0].obj).toEqual({ rule: "breaker", country: "GB", retryAfter: 3600 });
        await expect(guard.admit(fr(0), client)).resolves.toBeUndefined();
      });

      it("stays open for pauseSeconds, then samples the country afresh", async () => {
        const guard = guardWith({ breaker: { ...breaker, pauseSeconds: 600 } });
        for (let block = 0; block < 20; block++) await guard.admit(gb(block), client);
        expect(await retryAfterOf(guard.admit(gb(20), client))).toBe(600);
        clock.advance(599_000);
        expect(await retryAfterOf(guard.admit(gb(21), client))).toBe(1);
        clock.advance(1_000);
        // Still the same breaker window: the trip cleared its counts, so 20 new samples are needed.
        for (let block = 22; block < 42; block++) await guard.admit(gb(block), client);
        expect(await retryAfterOf(guard.admit(gb(42), client))).toBe(600);
        expect(trips("breaker")).toHaveLength(2);
      });

      it("opens at exactly the unverified ratio", async () => {
        const guard = guardWith({ breaker });
        for (let block = 0; block < 20; block++) await guard.admit(gb(block), client);
        for (let block = 0; block < 2; block++) await guard.recordVerified(gb(block), CLIENT_SOURCE);
        // 18 of 20 unverified: 0.9.
        expect(await retryAfterOf(guard.admit(gb(20), client))).toBe(3600);
      });

      it("does not open while enough codes are verified", async () => {
        const guard = guardWith({ breaker });
        for (let block = 0; block < 100; block++) {
          await guard.admit(gb(block), client);
          // Every fifth code verified: 80% unverified, under 0.9.
          if (block % 5 === 0) await guard.recordVerified(gb(block), CLIENT_SOURCE);
        }
        await expect(guard.admit(gb(100), client)).resolves.toBeUndefined();
        expect(trips("breaker")).toEqual([]);
      });

      it("does not open before minSamples, however few are verified", async () => {
        const guard = guardWith({ breaker });
        for (let block = 0; block < 19; block++) await guard.admit(gb(block), client);
        // The 20th sample is still taken: the breaker weighs what was sent before it.
        await expect(guard.admit(gb(19), client)).resolves.toBeUndefined();
        expect(trips("breaker")).toEqual([]);
      });

      it("weighs verifications per country", async () => {
        const guard = guardWith({ breaker });
        for (let block = 0; block < 20; block++) {
          await guard.admit(fr(block), client);
          await guard.admit(gb(block), client);
          await guard.recordVerified(gb(block), CLIENT_SOURCE);
        }
        await expect(guard.admit(gb(20), client)).resolves.toBeUndefined();
        expect(await retryAfterOf(guard.admit(fr(20), client))).toBe(3600);
        expect(trips("breaker").map((e) => e.detail)).toEqual([{ rule: "breaker", country: "FR" }]);
      });

      it("counts fixed windows: a new window starts from no samples", async () => {
        const guard = guardWith({ breaker });
        for (let block = 0; block < 19; block++) await guard.admit(gb(block), client);
        clock.advance(TO_HOUR_END_S * 1000);
        for (let block = 19; block < 38; block++) await guard.admit(gb(block), client);
        expect(trips("breaker")).toEqual([]);
      });
    });

    describe("the breaker's samples per source block", () => {
      // The defaults: 50 samples, at most 5 from one /24 or /64, so ten blocks must go unverified.
      const guardAtDefaults = () => new SmsGuard(subject.store, clock, audit, log, SMS_GUARD_DEFAULTS);
      let number = 0;
      /** A fresh number in a fresh block of numbers, so the velocity limit stays out of the way. */
      const nextGb = () => gb(100 + number++);

      beforeEach(() => {
        number = 0;
      });

      it("60 unverified codes from 2 source blocks do not pause the country for a third", async () => {
        const guard = guardAtDefaults();
        // Many hosts of each block, as a pumping ring behind two networks would use.
        for (let i = 0; i < 30; i++) {
          await guard.admit(nextGb(), fromBlock(1, i));
          await guard.admit(nextGb(), fromBlock(2, i));
        }
        await expect(guard.admit(nextGb(), fromBlock(3))).resolves.toBeUndefined();
        expect(trips("breaker")).toEqual([]);
      });

      it("counts an IPv6 /64 as one source block", async () => {
        const guard = guardAtDefaults();
        for (let i = 0; i < 60; i++) await guard.admit(nextGb(), { ip: `2001:db8:77:1::${i.toString(16)}`, userAgent: null });
        await expect(guard.admit(nextGb(), { ip: "2001:db8:77:2::1", userAgent: null })).resolves.toBeUndefined();
        expect(trips("breaker")).toEqual([]);
      });

      it("still pauses the country when many source blocks go unverified", async () => {
        const guard = guardAtDefaults();
        for (let block = 0; block < 10; block++) for (let i = 0; i < 5; i++) await guard.admit(nextGb(), fromBlock(block, i));
        expect(await retryAfterOf(guard.admit(nextGb(), fromBlock(99)))).toBe(3600);
        expect(trips("breaker").map((e) => e.detail)).toEqual([{ rule: "breaker", country: "GB" }]);
      });

      it("one sample from each of 50 source blocks is enough", async () => {
        const guard = guardAtDefaults();
        for (let block = 0; block < 50; block++) await guard.admit(nextGb(), fromBlock(block));
        expect(await retryAfterOf(guard.admit(nextGb(), fromBlock(99)))).toBe(3600);
      });

      it("credits a source block's verifications only up to the samples it added", async () => {
        const guard = guardAtDefaults();
        // One block verifies all 30 codes it asks for; then nine blocks pump (45 unverified).
        for (let i = 0; i < 30; i++) {
          const d = nextGb();
          await guard.admit(d, fromBlock(50, i));
          await guard.recordVerified(d, sourceBlock(fromBlock(50, i).ip));
        }
        for (let block = 0; block < 9; block++) for (let i = 0; i < 5; i++) await guard.admit(nextGb(), fromBlock(block, i));
        // Counted: 50 samples, 5 verified (not 30): 0.9 unverified, the breaker opens.
        expect(await retryAfterOf(guard.admit(nextGb(), fromBlock(99)))).toBe(3600);
      });

      it("ignores verifications credited to a block that added no sample", async () => {
        const guard = guardAtDefaults();
        for (let block = 0; block < 10; block++) for (let i = 0; i < 5; i++) await guard.admit(nextGb(), fromBlock(block, i));
        for (let i = 0; i < 20; i++) await guard.recordVerified(gb(0), sourceBlock(fromBlock(77).ip));
        expect(await retryAfterOf(guard.admit(nextGb(), fromBlock(99)))).toBe(3600);
      });

      it("lets the same blocks sample afresh after a pause within one window", async () => {
        const guard = new SmsGuard(subject.store, clock, audit, log, { ...SMS_GUARD_DEFAULTS, breaker: { ...SMS_GUARD_DEFAULTS.breaker, pauseSeconds: 600 } });
        const pump = async () => {
          for (let block = 0; block < 10; block++) for (let i = 0; i < 5; i++) await guard.admit(nextGb(), fromBlock(block, i));
        };
        await pump();
        await refusal(guard.admit(nextGb(), fromBlock(0)));
        clock.advance(600_000);
        await pump();
        expect(await retryAfterOf(guard.admit(nextGb(), fromBlock(0)))).toBe(600);
        expect(trips("breaker")).toHaveLength(2);
      });
    });

    it("never puts a full number in a log line or an audit event", async () => {
      const guard = guardWith({
        dailyBudgetPerCountry: 5,
        prefixVelocity: { max: 2, windowSeconds: 3600 },
        breaker: { minSamples: 3, unverifiedRatio: 0.9, windowSeconds: 3600, pauseSeconds: 3600, maxSamplesPerSource: 3 },
      });
      const used: SmsDestination[] = [];
      const tryAdmit = async (d: SmsDestination) => {
        used.push(d);
        await guard.admit(d, client).catch(() => undefined);
      };
      for (let n = 0; n < 4; n++) await tryAdmit(gb(900, n)); // velocity, then...
      for (let block = 0; block < 4; block++) await tryAdmit(fr(block)); // ...breaker
      const zzGuard = guardWith({ dailyBudgetPerCountry: 1 });
      await zzGuard.admit({ address: "+80012345678" }, client);
      used.push({ address: "+80012345679" });
      await zzGuard.admit({ address: "+80012345679" }, client).catch(() => undefined);
      expect(new Set(audit.ofType("sms.guard.tripped").map((e) => e.detail?.rule))).toEqual(new Set(["velocity", "breaker", "budget"]));

      const written = JSON.stringify([log.entries, audit.events]);
      for (const { address } of used) {
        expect(written).not.toContain(address);
        expect(written).not.toContain(address.slice(1));
      }
    });
  });
}
