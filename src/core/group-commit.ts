export interface GroupCommit<T> {
  /** Resolves once `item` is written; rejects with its own item's error, or its batch's. */
  add(item: T): Promise<void>;
  /** Resolves once nothing added so far is waiting or being written. */
  drained(): Promise<void>;
}

/**
 * Group commit: items added while a write is in flight (or in the same tick) go out
 * together in the next write, at most `maxBatch` at a time, one write at a time. Every
 * caller still waits for its own item, so nothing is answered before it is stored.
 *
 * `write` rejects to fail its whole batch, or returns one settled outcome per item, in
 * order, when items may fail on their own. `failsWaiting(error)` says when a failed batch
 * fails what waits behind it too.
 */
export function groupCommit<T>(
  write: (items: T[]) => Promise<readonly PromiseSettledResult<unknown>[] | void>,
  maxBatch = 100,
  failsWaiting: (error: unknown) => boolean = () => false,
): GroupCommit<T> {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  type Waiting = { item: T; resolve: () => void; reject: (error: unknown) => void };
  const waiting: Waiting[] = [];
  let writing: Promise<void> | undefined;

  const writeAll = async (): Promise<void> => {
    while (waiting.length) {
      const batch = waiting.splice(0, maxBatch);
      try {
        const outcomes = await write(batch.map((w) => w.item));
        batch.forEach((w, i) => {
          const outcome = outcomes?.[i];
          if (outcome?.status === "rejected") w.reject(outcome.reason);
          else w.resolve();
        });
      } catch (error) {
        for (const w of batch) w.reject(error);
        if (failsWaiting(error)) for (const w of waiting.splice(0)) w.reject(error);
      }
    }
    writing = undefined;
  };

  return {
    add: (item) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        // A microtask later, not at once: what the same tick adds shares the first write.
        writing ??= Promise.resolve().then(writeAll);
      }),
    drained: () => writing ?? Promise.resolve(),
  };
}
