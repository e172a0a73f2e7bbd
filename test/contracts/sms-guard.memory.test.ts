import { createMemoryStore } from "../../src/infra/store";
import { SMS_GUARD_DEFAULTS, SmsGuard } from "../../src/methods/otp/sms-guard";
import { MemoryAuditLog } from "../helpers/audit";
import { ManualClock } from "./otp-challenge.contract";
import { CapturingLog, START, describeSmsGuardContract, gb } from "./sms-guard.contract";

// One clock for the store and the guard, so moving it ages the keys too.
describeSmsGuardContract("memory", async (clock) => {
  const store = createMemoryStore({ clock });
  return { store, cleanup: () => store.close() };
});

describe("SmsGuard on the in-process store", () => {
  const client = { ip: null, userAgent: null };

  it("leaves no key behind once its window is over", async () => {
    const clock = new ManualClock(START);
    const store = createMemoryStore({ clock });
    const guard = new SmsGuard(store, clock, new MemoryAuditLog(), new CapturingLog(), {
      ...SMS_GUARD_DEFAULTS,
      prefixVelocity: { max: 1, windowSeconds: 3600 },
      breaker: { ...SMS_GUARD_DEFAULTS.breaker, minSamples: 1, unverifiedRatio: 1, pauseSeconds: 600 },
    });
    await guard.admit(gb(900, 1), client);
    await expect(guard.admit(gb(900, 2), client)).rejects.toMatchObject({ code: "RATE_LIMITED" });
    await guard.recordVerified(gb(900, 1), "unknown");
    expect(store.keyspace.size).toBeGreaterThan(0);
    // Past the UTC day and every window, with the keys' slack.
    clock.advance(2 * 86_400_000);
    store.keyspace.sweepExpired();
    expect(store.keyspace.size).toBe(0);
    await store.close();
  });

  it("refuses settings that would disable or break a limit", () => {
    const store = createMemoryStore();
    const make = (patch: object) => () => new SmsGuard(store, new ManualClock(), new MemoryAuditLog(), new CapturingLog(), { ...SMS_GUARD_DEFAULTS, ...patch });
    expect(make({ dailyBudgetPerCountry: 0 })).toThrow(/dailyBudgetPerCountry/);
    expect(make({ prefixVelocity: { max: 10, windowSeconds: 0.5 } })).toThrow(/prefixVelocity.windowSeconds/);
    expect(make({ breaker: { ...SMS_GUARD_DEFAULTS.breaker, unverifiedRatio: 0 } })).toThrow(/unverifiedRatio/);
    expect(make({ breaker: { ...SMS_GUARD_DEFAULTS.breaker, unverifiedRatio: Number.NaN } })).toThrow(/unverifiedRatio/);
    expect(make({})).not.toThrow();
    void store.close();
  });
});
