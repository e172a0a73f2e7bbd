import { randomUUID } from "node:crypto";
import { sourceBlock } from "../../src/core/client-info";
import { createRedisStore } from "../../src/infra/store";
import { useRedisKeyspace } from "../helpers/redis-keyspace";
import { SMS_GUARD_DEFAULTS, SmsGuard } from "../../src/methods/otp/sms-guard";
import { MemoryAuditLog } from "../helpers/audit";
import { ManualClock } from "./otp-challenge.contract";
import { CapturingLog, START, describeSmsGuardContract, gb } from "./sms-guard.contract";

const { url, keyPrefix: filePrefix, raw: redis, keysUnder } = useRedisKeyspace("sms-guard");

// A prefix per test: the guard's keys are named by country and day, which tests share.
// Redis keeps real time for its TTLs; the windows come from the moved clock, so
// moving it reaches a new day or window without sleeping.
describeSmsGuardContract("redis", async () => {
  const store = createRedisStore({ url, keyPrefix: `${filePrefix}${randomUUID()}:` });
  return { store, cleanup: () => store.close() };
});

describe("SmsGuard on Redis", () => {
  it("names no number, block or client network in its keys, and gives every key a TTL", async () => {
    const keyPrefix = `${filePrefix}${randomUUID()}:`;
    const store = createRedisStore({ url, keyPrefix });
    try {
      const clock = new ManualClock(START);
      const guard = new SmsGuard(store, clock, new MemoryAuditLog(), new CapturingLog(), {
        ...SMS_GUARD_DEFAULTS,
        prefixVelocity: { max: 1, windowSeconds: 3600 },
        breaker: { ...SMS_GUARD_DEFAULTS.breaker, minSamples: 2, unverifiedRatio: 1 },
      });
      const client = { ip: "198.51.100.7", userAgent: null };
      await guard.admit(gb(900, 1234), client);
      await expect(guard.admit(gb(900, 1235), client)).rejects.toMatchObject({ code: "RATE_LIMITED" });
      await guard.admit(gb(901, 1234), client);
      await expect(guard.admit(gb(902, 1234), client)).rejects.toMatchObject({ code: "RATE_LIMITED", details: { retryAfter: 3600 } });
      await guard.recordVerified(gb(900, 1234), sourceBlock(client.ip));

      const keys = await keysUnder(keyPrefix);
      // The scripts' keys carry the country as their hash tag (one cluster slot); the markers are single keys.
      expect(keys.map((k) => k.slice(keyPrefix.length).split(":").slice(0, 4).join(":").replace(/:\d.*$/, "")).sort()).toEqual([
        "sms:guard:reported:velocity",
        "sms:guard:{GB}:breaker",
        "sms:guard:{GB}:breaker-source",
        "sms:guard:{GB}:budget",
        "sms:guard:{GB}:pause",
        // 900 and 901: the breaker refused 902 before counting it.
        "sms:guard:{GB}:velocity",
        "sms:guard:{GB}:velocity",
      ]);
      for (const key of keys) {
        expect(key).not.toMatch(/44770|198\.51/);
        expect(await redis().pttl(key)).toBeGreaterThan(0);
      }
    } finally {
      await store.close();
    }
  });
});
