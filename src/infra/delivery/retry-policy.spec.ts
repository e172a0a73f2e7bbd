import { DeliveryError } from "./delivery.error";
import { DEFAULT_RETRY_POLICY, decideRetry, retryPolicy } from "./retry-policy";

const policy = retryPolicy({ baseDelayMs: 1_000, maxDelayMs: 60_000, maxAttempts: 5 });
const transient = new DeliveryError("HTTP 503", { retryable: true, status: 503 });

describe("decideRetry", () => {
  it("waits a random time up to base × 2^(attempt-1) (full jitter)", () => {
    expect(decideRetry(policy, 1, transient, () => 0)).toEqual({ retry: true, delayMs: 0 });
    expect(decideRetry(policy, 1, transient, () => 0.999)).toEqual({ retry: true, delayMs: 999 });
    expect(decideRetry(policy, 3, transient, () => 0.5)).toEqual({ retry: true, delayMs: 2_000 });
  });

  it("never backs off longer than maxDelayMs", () => {
    const late = retryPolicy({ ...policy, maxAttempts: 20 });
    expect(decideRetry(late, 12, transient, () => 0.999)).toEqual({ retry: true, delayMs: 59_940 });
  });

  it("waits at least the provider's Retry-After", () => {
    const limited = new DeliveryError("HTTP 429", { retryable: true, status: 429, retryAfterMs: 5_000 });
    expect(decideRetry(policy, 1, limited, () => 0.5)).toEqual({ retry: true, delayMs: 5_000 });
    // A longer jittered backoff wins over a short Retry-After.
    const brief = new DeliveryError("HTTP 429", { retryable: true, status: 429, retryAfterMs: 10 });
    expect(decideRetry(policy, 4, brief, () => 0.5)).toEqual({ retry: true, delayMs: 4_000 });
  });

  it("stops when Retry-After is beyond maxDelayMs", () => {
    const tooLong = new DeliveryError("HTTP 429", { retryable: true, status: 429, retryAfterMs: 120_000 });
    expect(decideRetry(policy, 1, tooLong)).toEqual({ retry: false, why: "Retry-After 120 s exceeds the 60 s limit" });
  });

  it("stops after maxAttempts sends", () => {
    expect(decideRetry(policy, 4, transient).retry).toBe(true);
    expect(decideRetry(policy, 5, transient)).toEqual({ retry: false, why: "gave up after 5 attempts" });
  });

  it("never retries an error that is not retryable", () => {
    expect(decideRetry(policy, 1, new DeliveryError("HTTP 400", { retryable: false, status: 400 }))).toEqual({ retry: false });
  });
});

describe("decideRetry for a message that expires (a code or a link)", () => {
  const minute = 60_000;

  it("keeps retrying past maxAttempts while the message lives", () => {
    expect(decideRetry(policy, 5, transient, () => 0.5, 5 * minute)).toEqual({ retry: true, delayMs: 8_000 });
    expect(decideRetry(policy, 40, transient, () => 0.5, 5 * minute)).toEqual({ retry: true, delayMs: 30_000 });
  });

  it("never waits past the end of its life", () => {
    expect(decideRetry(policy, 12, transient, () => 0.999, 10_000)).toEqual({ retry: true, delayMs: 9_990 });
  });

  it("stops once less than one base delay is left", () => {
    expect(decideRetry(policy, 3, transient, () => 0.5, 999)).toEqual({ retry: false, why: "gave up after 3 attempts: the message expires before another could help" });
    expect(decideRetry(policy, 3, transient, () => 0.5, -5)).toMatchObject({ retry: false });
  });

  it("honours a Retry-After beyond maxDelayMs that still comes in time, and stops at one that does not", () => {
    const later = new DeliveryError("HTTP 429", { retryable: true, status: 429, retryAfterMs: 120_000 });
    expect(decideRetry(policy, 1, later, () => 0.5, 5 * minute)).toEqual({ retry: true, delayMs: 120_000 });
    expect(decideRetry(policy, 1, later, () => 0.5, 100_000)).toMatchObject({ retry: false });
  });

  it("never retries an error that is not retryable", () => {
    expect(decideRetry(policy, 1, new DeliveryError("SMTP 550", { retryable: false, status: 550 }), () => 0.5, 5 * minute)).toEqual({ retry: false });
  });
});

describe("retryPolicy", () => {
  it("defaults to 1 s base, 60 s cap, 5 attempts", () => {
    expect(retryPolicy()).toEqual({ baseDelayMs: 1_000, maxDelayMs: 60_000, maxAttempts: 5 });
    expect(DEFAULT_RETRY_POLICY).toEqual(retryPolicy());
  });

  it("refuses a policy that cannot work", () => {
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(/Invalid retry policy/);
    expect(() => retryPolicy({ baseDelayMs: 10_000, maxDelayMs: 1_000 })).toThrow(/Invalid retry policy/);
  });
});
