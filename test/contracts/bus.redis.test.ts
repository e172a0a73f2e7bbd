import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RedisBus, createRedisBus } from "../../src/infra/pubsub";
import { describeBusContract } from "./bus.contract";
import { waitFor } from "../helpers/wait";

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

/** Waits until at least `connections` connections are subscribed to the topic's channel. */
async function subscribed(bus: RedisBus, topic: string, connections = 1): Promise<void> {
  await waitFor(async () => (await subscriberConnections(bus.channel(topic))) >= connections, `a subscriber on ${bus.channel(topic)}`, 5_000);
}

describeBusContract("redis", async () => {
  const bus = createRedisBus({ url, topicPrefix });
  return { bus, subscribed: (topic) => subscribed(bus, topic), cleanup: () => bus.close() };
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
    const messages = second.subscribe<{ n: number }>(topic);
    const next = messages.next();
    await subscribed(second, topic);
    await first.publish(topic, { n: 1 });
    expect(await next).toEqual({ value: { n: 1 }, done: false });
    await messages.return?.();
  });

  it("delivers to subscribers on every instance, the publisher's own included", async () => {
    const topic = `everyone:${randomUUID()}`;
    const onFirst = first.subscribe<{ n: number }>(topic);
    const onSecond = second.subscribe<{ n: number }>(topic);
    const [nextFirst, nextSecond] = [onFirst.next(), onSecond.next()];
    await subscribed(first, topic, 2);
    await first.publish(topic, { n: 7 });
    expect(await nextFirst).toEqual({ value: { n: 7 }, done: false });
    expect(await nextSecond).toEqual({ value: { n: 7 }, done: false });
    await Promise.all([onFirst.return?.(), onSecond.return?.()]);
  });

  it("keeps buses with different prefixes apart", async () => {
    const topic = `prefixed:${randomUUID()}`;
    const elsewhere = new RedisBus({ url, topicPrefix: `other:${randomUUID()}:` });
    try {
      const messages = first.subscribe<{ n: number }>(topic);
      const next = messages.next();
      await subscribed(first, topic);
      await elsewhere.publish(topic, { n: 0 });
      await second.publish(topic, { n: 1 });
      expect(await next).toEqual({ value: { n: 1 }, done: false });
      await messages.return?.();
    } finally {
      await elsewhere.close();
    }
  });

  it("unsubscribes from Redis once the last subscription on a topic ends", async () => {
    const topic = `unsubscribe:${randomUUID()}`;
    const a = first.subscribe(topic);
    const b = first.subscribe(topic);
    void a.next();
    void b.next();
    await subscribed(first, topic);
    await a.return?.();
    expect(await subscriberConnections(first.channel(topic))).toBe(1);
    await b.return?.();
    await waitFor(async () => (await subscriberConnections(first.channel(topic))) === 0, "the channel to have no subscriber", 5_000);
    expect(await subscriberConnections(first.channel(topic))).toBe(0);
  });
});
