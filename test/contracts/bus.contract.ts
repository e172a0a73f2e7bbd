import { randomUUID } from "node:crypto";
import type { EventBus } from "../../src/core/ports";

export interface BusUnderTest {
  bus: EventBus;
  cleanup: () => Promise<void>;
}

interface Numbered {
  n: number;
}

/**
 * What every `EventBus` must do, run against Redis and the in-process bus alike, so
 * GraphQL subscriptions behave the same on one instance and many.
 */
export function describeBusContract(name: string, makeBus: () => Promise<BusUnderTest>): void {
  describe(`EventBus contract: ${name}`, () => {
    let subject: BusUnderTest;
    let bus: EventBus;
    const topic = (label: string) => `${label}:${randomUUID()}`;

    beforeEach(async () => {
      subject = await makeBus();
      bus = subject.bus;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    it("delivers a subscriber's messages in the order they were published", async () => {
      const t = topic("order");
      const messages = await bus.listen<Numbered>(t);
      const first = messages.next();
      for (const n of [1, 2, 3]) await bus.publish(t, { n });
      expect(await first).toEqual({ value: { n: 1 }, done: false });
      expect(await messages.next()).toEqual({ value: { n: 2 }, done: false });
      expect(await messages.next()).toEqual({ value: { n: 3 }, done: false });
      await messages.return?.();
    });

    it("delivers every message to every subscriber of the topic, each its own copy", async () => {
      const t = topic("fan-out");
      // listen() resolves once listening, so no wait is needed before publishing.
      const a = await bus.listen<Numbered>(t);
      const b = await bus.listen<Numbered>(t);
      const [firstA, firstB] = [a.next(), b.next()];
      await bus.publish(t, { n: 1 });
      await bus.publish(t, { n: 2 });
      expect([await firstA, await a.next()]).toEqual([
        { value: { n: 1 }, done: false },
        { value: { n: 2 }, done: false },
      ]);
      const fromB = [await firstB, await b.next()];
      expect(fromB).toEqual([
        { value: { n: 1 }, done: false },
        { value: { n: 2 }, done: false },
      ]);
      expect(fromB[0].value).not.toBe((await firstA).value);
      await Promise.all([a.return?.(), b.return?.()]);
    });

    it("listen(): what is published as soon as it resolves arrives, and return() stops it", async () => {
      const t = topic("listen");
      const messages = await bus.listen<Numbered>(t);
      await bus.publish(t, { n: 7 });
      expect(await messages.next()).toEqual({ value: { n: 7 }, done: false });
      await messages.return?.();
      await bus.publish(t, { n: 8 });
      expect(await messages.next()).toEqual({ value: undefined, done: true });
    });

    it("sends payloads as JSON", async () => {
      const t = topic("json");
      const messages = await bus.listen<{ at: string; nested: { list: number[] } }>(t);
      const first = messages.next();
      const payload = { at: new Date("2030-01-01T00:00:00Z"), nested: { list: [1, 2] }, dropped: undefined };
      await bus.publish(t, payload);
      expect((await first).value).toEqual({ at: "2030-01-01T00:00:00.000Z", nested: { list: [1, 2] } });
      await messages.return?.();
    });

    it("keeps topics apart", async () => {
      const [mine, other] = [topic("mine"), topic("other")];
      const messages = await bus.listen<Numbered>(mine);
      const first = messages.next();
      await bus.publish(other, { n: 0 });
      await bus.publish(mine, { n: 1 });
      expect(await first).toEqual({ value: { n: 1 }, done: false });
      await messages.return?.();
    });

    it("stops delivering to a subscription ended with return()", async () => {
      const t = topic("return");
      const leaving = await bus.listen<Numbered>(t);
      const staying = await bus.listen<Numbered>(t);
      const [waitingLeaving, waitingStaying] = [leaving.next(), staying.next()];

      expect(await leaving.return?.()).toEqual({ value: undefined, done: true });
      // A next() that was waiting ends too, so a `for await` loop over it finishes.
      expect(await waitingLeaving).toEqual({ value: undefined, done: true });

      await bus.publish(t, { n: 1 });
      expect(await waitingStaying).toEqual({ value: { n: 1 }, done: false });
      expect(await leaving.next()).toEqual({ value: undefined, done: true });
      await staying.return?.();
    });

    it("ends a for-await loop when the consumer breaks out of it", async () => {
      const t = topic("for-await");
      const messages = await bus.listen<Numbered>(t);
      const received: number[] = [];
      const loop = (async () => {
        for await (const message of messages) {
          if ("resync" in message) continue;
          received.push(message.n);
          if (message.n === 2) break;
        }
      })();
      for (const n of [1, 2, 3]) await bus.publish(t, { n });
      await loop;
      expect(received).toEqual([1, 2]);
      expect(await messages.next()).toEqual({ value: undefined, done: true });
    });

    it("ends open subscriptions on close()", async () => {
      const t = topic("close");
      const messages = await bus.listen<Numbered>(t);
      const waiting = messages.next();
      await bus.close();
      expect(await waiting).toEqual({ value: undefined, done: true });
    });
  });
}
