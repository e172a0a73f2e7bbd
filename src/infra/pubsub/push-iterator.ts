/**
 * An async iterator fed by pushes: queues what nobody has pulled yet, and on `return()`
 * ends pending `next()` calls and runs `onEnd` (to unsubscribe) once.
 */
export class PushIterator<T> implements AsyncIterableIterator<T> {
  private readonly queued: T[] = [];
  private waiting: Array<(result: IteratorResult<T>) => void> = [];
  private done = false;

  constructor(private readonly onEnd: () => void | Promise<void>) {}

  push(value: T): void {
    if (this.done) return;
    const resolve = this.waiting.shift();
    if (resolve) resolve({ value, done: false });
    else this.queued.push(value);
  }

  /** push(), unless `value` is already waiting to be pulled (a reminder need not stack up). */
  pushUnlessQueued(value: T): void {
    if (!this.queued.includes(value)) this.push(value);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queued.length > 0) return Promise.resolve({ value: this.queued.shift() as T, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    // Mostly one waiter, for minutes: a literal of one holds one slot, push() would make 17.
    return new Promise((resolve) => (this.waiting.length ? this.waiting.push(resolve) : (this.waiting = [resolve])));
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.done) {
      this.done = true;
      this.queued.length = 0;
      for (const resolve of this.waiting.splice(0)) resolve({ value: undefined, done: true });
      await this.onEnd();
    }
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
