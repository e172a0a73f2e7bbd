import { EventEmitter } from "node:events";
import type { EventBus } from "../../core/ports";

/**
 * `EventBus` inside this process, for a single gateway instance. Payloads go through
 * JSON like on Redis, so a subscriber sees the same thing on either bus (a Date arrives
 * as a string) and never shares an object with the publisher.
 */
export class MemoryBus implements EventBus {
  private readonly emitter = new EventEmitter();
  private readonly open = new Set<{ return(): Promise<unknown> }>();

  constructor() {
    // One listener per live subscription; many is normal, not a leak.
    this.emitter.setMaxListeners(0);
  }

  async publish(topic: string, payload: object): Promise<void> {
    this.emitter.emit(topic, JSON.stringify(payload));
  }

  subscribe<T>(topic: string): AsyncIterableIterator<T> {
    const iterator: TopicIterator<T> = new TopicIterator<T>(this.emitter, topic, () => this.open.delete(iterator));
    this.open.add(iterator);
    return iterator;
  }

  /** Ends every subscription, so `for await` loops over them finish. */
  async close(): Promise<void> {
    await Promise.all([...this.open].map((iterator) => iterator.return()));
  }
}

export function createMemoryBus(): MemoryBus {
  return new MemoryBus();
}

/**
 * Listens from the moment it is created (unlike graphql-subscriptions' iterators, which
 * wait for the first `next()`), queues what nobody has pulled yet, stops on `return()`.
 */
class TopicIterator<T> implements AsyncIterableIterator<T> {
  private readonly queued: T[] = [];
  private readonly waiting: Array<(result: IteratorResult<T>) => void> = [];
  private done = false;
  private readonly listener = (message: string): void => {
    const value = JSON.parse(message) as T;
    const resolve = this.waiting.shift();
    if (resolve) resolve({ value, done: false });
    else this.queued.push(value);
  };

  constructor(
    private readonly emitter: EventEmitter,
    private readonly topic: string,
    private readonly onEnd: () => void,
  ) {
    emitter.on(topic, this.listener);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queued.length > 0) return Promise.resolve({ value: this.queued.shift() as T, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.done) {
      this.done = true;
      this.emitter.off(this.topic, this.listener);
      this.queued.length = 0;
      for (const resolve of this.waiting.splice(0)) resolve({ value: undefined, done: true });
      this.onEnd();
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
