import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RedisBus, createRedisBus } from "../../src/infra/pubsub";
import { describeBusContract } from "./bus.contract";

// global-setup guarantees a Redis (REDIS_URL or a throwaway redis-server).
const url = process.env.REDIS_URL as string;
// This file's channels only, so parallel test files sharing the Redis cannot collide.
const topicPrefix = `test:${randomUUID()}:`;

/** Sees the server's side of pub/sub. */
let raw: Redis;

beforeAll(() => {
  raw = new Redis(url);
});

afterAll(async () => {
  await raw.quit();
});

async function subscriberConnections(channel: string): Promise<number> {
  const [, count] = (await raw.pubsub("NUMSUB", channel)) as [string, number];
  return Number(count);
}

describeBusContract("redis", async () => {
  const bus = createRedisBus({ url, topicPrefix });
  return { bus, cleanup: () => bus.close() };
});

describe("RedisBus across gateway instances", () => {
  let first: RedisBus;
  let second: RedisBus;

  beforeEach(() => {
    first = new RedisBus({ url, topicPrefix });
    second = new RedisBus({ url, topicPrefix });
  });

  afterEach(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it("delivers what one instance publishes to subscribers on the other", async () => {
    const topic = `cross:${randomUUID()}`;
    const messages = await second.listen<{ n: number }>(topic);
    const next = messages.next();
    await first.publish(topic, { n: 1 });
    expect(await next).toEqual({ value: { n: 1 }, done: false });
    await messages.return?.();
  });

  it("delivers to subscribers on every instance, the publisher's own included", async () => {
    const topic = `everyone:${randomUUID()}`;
    const onFirst = await first.listen<{ n: number }>(topic);
    const onSecond = await second.listen<{ n: number }>(topic);
    const [nextFirst, nextSecond] = [onFirst.next(), onSecond.next()];
    await first.publish(topic, { n: 7 });
    expect(await nextFirst).toEqual({ value: { n: 7 }, done: false });
    expect(await nextSecond).toEqual({ value: { n: 7 }, done: false });
    await Promise.all([onFirst.return?.(), onSecond.return?.()]);
  });

  it("keeps buses with different prefixes apart", async () => {
    const topic = `prefixed:${randomUUID()}`;
    const elsewhere = new RedisBus({ url, topicPrefix: `other:${randomUUID()}:` });
    try {
      const messages = await first.listen<{ n: number }>(topic);
      const next = messages.next();
      await elsewhere.publish(topic, { n: 0 });
      await second.publish(topic, { n: 1 });
      expect(await next).toEqual({ value: { n: 1 }, done: false });
      await messages.return?.();
    } finally {
      await elsewhere.close();
    }
  });

  it("listens to every topic through one pattern subscription, and forgets a topic once its last listener ends", async () => {
    const topics = Array.from({ length: 20 }, () => `many:${randomUUID()}`);
    const listening = await Promise.all(topics.map((t) => first.listen<{ n: number }>(t)));
    const again = await first.listen<{ n: number }>(topics[0]);
    // No Redis subscription per topic: only the prefix's pattern (ours, and the other instance's if it listened).
    for (const t of topics) expect(await subscriberConnections(first.channel(t))).toBe(0);
    const patterns = Number(await raw.pubsub("NUMPAT"));
    expect(patterns).toBeGreaterThanOrEqual(1);
    expect(first.listenerCount(topics[0])).toBe(2);
    await listening[0].return?.();
    expect(first.listenerCount(topics[0])).toBe(1);
    await again.return?.();
    expect(first.listenerCount(topics[0])).toBe(0);
    await first.publish(topics[1], { n: 1 });
    expect(await listening[1].next()).toEqual({ value: { n: 1 }, done: false });
    await Promise.all(listening.slice(1).map((l) => l.return?.()));
    expect(topics.map((t) => first.listenerCount(t))).toEqual(topics.map(() => 0));
  });

  it("takes a prefix with glob characters as it is", async () => {
    const odd = `odd*[x]?:${randomUUID()}:`;
    const [bus, near] = [new RedisBus({ url, topicPrefix: odd }), new RedisBus({ url, topicPrefix: odd.replace("*", "-") })];
    try {
      const messages = await bus.listen<{ n: number }>("t");
      const next = messages.next();
      await near.publish("t", { n: 0 }); // "odd-[x]?…" would match the pattern unescaped
      await bus.publish("t", { n: 1 });
      expect(await next).toEqual({ value: { n: 1 }, done: false });
      await messages.return?.();
    } finally {
      await Promise.all([bus.close(), near.close()]);
    }
  });
});
