import type { DeliveryError } from "./delivery.error";

/** How the queue retries a failed send; milliseconds so tests can run it fast. */
export interface RetryPolicy {
  /** The first retry waits up to this long; each further one doubles it. */
  baseDelayMs: number;
  /** No backoff waits longer, and a Retry-After beyond it ends the retries. */
  maxDelayMs: number;
  /** Sends in total, the first one included. */
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 60_000, maxAttempts: 5 };

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!(policy.maxAttempts >= 1 && policy.baseDelayMs >= 0 && policy.maxDelayMs >= policy.baseDelayMs)) {
    throw new Error(`Invalid retry policy: ${JSON.stringify(policy)}`);
  }
  return policy;
}

/** `why` explains a stop that the error alone does not (a retryable error not retried). */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; why?: string };

/**
 * After attempt `attempt` (1-based) failed with `error`: wait a random time up to the
 * exponential ceiling ("full jitter", so retries from many instances spread out), but
 * never less than the provider's Retry-After. A Retry-After beyond `maxDelayMs` ends it:
 * a one-time code delivered that late has usually expired.
 */
export function decideRetry(policy: RetryPolicy, attempt: number, error: DeliveryError, random: () => number = Math.random): RetryDecision {
  if (!error.retryable) return { retry: false };
  if (attempt >= policy.maxAttempts) return { retry: false, why: `gave up after ${attempt} attempts` };
  if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxDelayMs) {
    return { retry: false, why: `Retry-After ${Math.ceil(error.retryAfterMs / 1000)} s exceeds the ${Math.ceil(policy.maxDelayMs / 1000)} s limit` };
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return { retry: true, delayMs: Math.max(jittered, error.retryAfterMs ?? 0) };
}
