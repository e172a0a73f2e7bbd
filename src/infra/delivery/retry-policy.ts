import type { DeliveryError } from "./delivery.error";

/** How the queue retries a failed send; milliseconds so tests can run it fast. */
export interface RetryPolicy {
  /** The first retry waits up to this long; each further one doubles it. */
  baseDelayMs: number;
  /** No backoff waits longer, and a Retry-After beyond it ends a notice's retries. */
  maxDelayMs: number;
  /** Sends in total, the first one included, of a message without `expiresAt` (a notice). */
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
 * never less than the provider's Retry-After.
 *
 * `lifeLeftMs` is how long the message stays useful (a code's or link's remaining
 * lifetime). With it the retries go on for that long, whatever `maxAttempts` says: a mail
 * outage shorter than the code's life must not lose the code. No wait reaches past it, and
 * once less than one base delay (or the Retry-After) remains, it stops. Without it (a
 * notice) `maxAttempts` bounds the tries, and a Retry-After beyond `maxDelayMs` ends them.
 */
export function decideRetry(
  policy: RetryPolicy,
  attempt: number,
  error: DeliveryError,
  random: () => number = Math.random,
  lifeLeftMs?: number,
): RetryDecision {
  if (!error.retryable) return { retry: false };
  const retryAfterMs = error.retryAfterMs ?? 0;
  let ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  if (lifeLeftMs === undefined) {
    if (attempt >= policy.maxAttempts) return { retry: false, why: `gave up after ${attempt} attempts` };
    if (retryAfterMs > policy.maxDelayMs) {
      return { retry: false, why: `Retry-After ${Math.ceil(retryAfterMs / 1000)} s exceeds the ${Math.ceil(policy.maxDelayMs / 1000)} s limit` };
    }
  } else {
    if (lifeLeftMs <= Math.max(policy.baseDelayMs, retryAfterMs)) {
      return { retry: false, why: `gave up after ${attempt} attempts: the message expires before another could help` };
    }
    ceiling = Math.min(ceiling, lifeLeftMs);
  }
  const jittered = Math.floor(random() * ceiling);
  return { retry: true, delayMs: Math.max(jittered, retryAfterMs) };
}
