import { EventEmitter } from "node:events";
import type { BusResync, EventBus } from "../../core/ports";
import { PushIterator } from "./push-iterator";

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

  /** In process, a subscription listens from the moment it is made (and is never cut off). */
  async listen<T>(topic: string): Promise<AsyncIterableIterator<T | BusResync>> {
    const listener = (message: string) => iterator.push(JSON.parse(message) as T);
    const iterator: PushIterator<T> = new PushIterator<T>(() => {
      this.emitter.off(topic, listener);
      this.open.delete(iterator);
    });
    this.emitter.on(topic, listener);
    this.open.add(iterator);
    return iterator;
  }

  /** How many listeners wait on `topic`, or on any topic (for tests and probes). */
  listenerCount(topic?: string): number {
    return topic !== undefined ? this.emitter.listenerCount(topic) : this.open.size;
  }

  /** Ends every subscription, so `for await` loops over them finish. */
  async close(): Promise<void> {
    await Promise.all([...this.open].map((iterator) => iterator.return()));
  }
}

export function createMemoryBus(): MemoryBus {
  return new MemoryBus();
}

