import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import { createRedisBus } from "../../src/infra/pubsub";
import { testClusterTarget } from "../helpers/redis-keyspace";
import { describeBusContract } from "./bus.contract";

// The run's 3-master Redis Cluster (global-setup); this file's channels only.
const cluster = testClusterTarget();
const topicPrefix = `test:${randomUUID()}:`;

/** Sees the server's side of pub/sub on every master. */
let raw: Cluster;

beforeAll(async () => {
  raw = new Cluster(cluster.cluster);
  await new Promise((resolve) => raw.once("ready", resolve));
});

afterAll(async () => {
  await raw.quit();
});

/** PUBSUB NUMSUB counts one node's subscribers only: add them up over the masters. */
async function subscriberConnections(channel: string): Promise<number> {
  const counts = await Promise.all(raw.nodes("master").map(async (node) => Number(((await node.pubsub("NUMSUB", channel)) as [string, number])[1])));
  return counts.reduce((sum, n) => sum + n, 0);
}

describeBusContract("redis cluster", async () => {
  const bus = createRedisBus({ url: cluster, topicPrefix });
  return { bus, cleanup: () => bus.close() };
});

describe("RedisBus across the nodes of a Redis Cluster", () => {
  it("hears what is published on every node, whichever node it subscribed on", async () => {
    const bus = createRedisBus({ url: cluster, topicPrefix });
    try {
      const topic = `cross-node:${randomUUID()}`;
      const messages = await bus.listen<{ from: string }>(topic);
      const masters = raw.nodes("master");
      expect(masters).toHaveLength(3);
      // Straight to each master: at most one of them holds the bus's subscription.
      for (const node of masters) await node.publish(bus.channel(topic), JSON.stringify({ from: `${node.options.port}` }));
      const received = [];
      for (const _ of masters) received.push((await messages.next()).value);
      // Through the prefix's one pattern subscription: no node holds a subscription to the channel.
      expect(await subscriberConnections(bus.channel(topic))).toBe(0);
      // Each node forwards on its own: messages entering at different nodes may arrive in any order.
      const byPort = (a: { from: string }, b: { from: string }) => a.from.localeCompare(b.from);
      expect(received.sort(byPort)).toEqual(masters.map((node) => ({ from: `${node.options.port}` })).sort(byPort));
      await messages.return?.();
    } finally {
      await bus.close();
    }
  });
});

describe("RedisBus publishing on a Redis Cluster", () => {
  it("keeps a topic's order for a subscriber on another node, over many events", async () => {
    const [publisher, subscriber] = [createRedisBus({ url: cluster, topicPrefix }), createRedisBus({ url: cluster, topicPrefix })];
    try {
      // A cluster client sends each keyless PUBLISH to a random node; the bus must not.
      const topic = `order:${randomUUID()}`;
      const messages = await subscriber.listen<{ n: number }>(topic);
      const count = 200;
      await Promise.all(Array.from({ length: count }, (_, n) => publisher.publish(topic, { n })));
      const received: number[] = [];
      for (let i = 0; i < count; i++) received.push((await messages.next()).value.n);
      expect(received).toEqual(Array.from({ length: count }, (_, n) => n));
      await messages.return?.();
    } finally {
      await Promise.all([publisher.close(), subscriber.close()]);
    }
  });
});
