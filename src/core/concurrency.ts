/**
 * At most `limit` tasks at once; the rest wait their turn (first come, first served).
 * For CPU-bound work on libuv's pool (argon2): more in flight than cores only makes every
 * one slower and takes the cores from the event loop.
 */
export function concurrencyLimit(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
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
