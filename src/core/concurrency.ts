import { DependencyUnavailableError } from "./outage";

export interface ConcurrencyLimitOptions {
  /**
   * Longest a task waits for its turn; past it the call fails with a
   * DependencyUnavailableError (the client gets UNAVAILABLE with retryAfter) instead of
   * waiting behind a storm without bound.
   */
  maxWaitMs?: number;
  /** Names the work in that error's message. */
  what?: string;
}

/**
 * At most `limit` tasks at once; the rest wait their turn (first come, first served).
 * For CPU-bound work on libuv's pool (argon2): more in flight than cores only makes every
 * one slower and takes the cores from the event loop.
 */
export function concurrencyLimit(limit: number, options: ConcurrencyLimitOptions = {}): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const { maxWaitMs, what = "tasks" } = options;
  let running = 0;
  const waiting: Array<() => void> = [];
  const waitTurn = () =>
    new Promise<void>((resolve, reject) => {
      if (maxWaitMs === undefined) return waiting.push(resolve);
      const turn = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        // Out of the line, never woken: the slot goes to the next one.
        waiting.splice(waiting.indexOf(turn), 1);
        reject(new DependencyUnavailableError(`too many ${what} at once: none started within ${maxWaitMs} ms`));
      }, maxWaitMs);
      waiting.push(turn);
    });
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await waitTurn();
    else running++;
    // A woken waiter takes over the finished task's slot: `running` stays as it was.
    try {
      return await task();
    } finally {
      if (waiting.length) waiting.shift()!();
      else running--;
    }
  };
}
