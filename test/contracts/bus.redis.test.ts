import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RedisBus, createRedisBus } from "../../src/infra/pubsub";
import { hostAndPort, startTcpProxy } from "../helpers/tcp-proxy";
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

describe("RedisBus on its own", () => {
  it("ignores what is not one of its messages on a channel it hears, and goes on", async () => {
    const bus = new RedisBus({ url, topicPrefix });
    try {
      const topic = `foreign:${randomUUID()}`;
      const messages = await bus.listen<{ n: number }>(topic);
      const next = messages.next();
      for (const text of ["not json", "null", "7", '"text"', "[1,2]"]) await raw.publish(bus.channel(topic), text);
      await bus.publish(topic, { n: 1 });
      expect(await next).toEqual({ value: { n: 1 }, done: false });
      await messages.return?.();
    } finally {
      await bus.close();
    }
  });

  it("refuses to listen once closed", async () => {
    const bus = new RedisBus({ url, topicPrefix });
    await bus.close();
    await expect(bus.listen(`closed:${randomUUID()}`)).rejects.toThrow(/closed/);
  });

  it("after its connection dropped, a new listener waits until the pattern is subscribed again", async () => {
    const proxy = await startTcpProxy(hostAndPort(url, 6379));
    const bus = new RedisBus({ url: proxy.urlFor(url), topicPrefix });
    try {
      const topic = `reconnect:${randomUUID()}`;
      const before = await bus.listen<{ n: number }>(topic);
      await proxy.refuse();
      // Published while the bus is cut off: lost to it.
      await raw.publish(bus.channel(topic), JSON.stringify({ n: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 200)); // the bus has seen its connection drop
      let resolved = false;
      const during = bus.listen<{ n: number }>(topic).then((it) => ((resolved = true), it));
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Resolving now would promise messages while nothing is subscribed.
      expect(resolved).toBe(false);
      await proxy.pass();
      const after = await during;
      // Both are told to read the state again, once the pattern is back; then messages flow.
      expect(await before.next()).toEqual({ value: { resync: true }, done: false });
      expect(await after.next()).toEqual({ value: { resync: true }, done: false });
      await bus.publish(topic, { n: 2 });
      expect(await after.next()).toEqual({ value: { n: 2 }, done: false });
      expect(await before.next()).toEqual({ value: { n: 2 }, done: false });
    } finally {
      await bus.close();
      await proxy.close();
    }
  });
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
    // No Redis subscription per topic: the kind's one pattern carries them (and the message below).
    for (const t of topics) expect(await subscriberConnections(first.channel(t))).toBe(0);
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
    const id = randomUUID();
    // The same length, so the topic cut from a near miss's channel would be "kind:t" too.
    const [bus, near] = [new RedisBus({ url, topicPrefix: `odd*[x]?:${id}:` }), new RedisBus({ url, topicPrefix: `oddAAAxB:${id}:` })];
    try {
      const messages = await bus.listen<{ n: number }>("kind:t");
      const next = messages.next();
      // "oddAAAxB:…:kind:t" matches the pattern `odd*[x]?:…:kind:*` read as a glob.
      await near.publish("kind:t", { n: 0 });
      await bus.publish("kind:t", { n: 1 });
      expect(await next).toEqual({ value: { n: 1 }, done: false });
      await messages.return?.();
    } finally {
      await Promise.all([bus.close(), near.close()]);
    }
  });
});
