import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import { RedisBus, createRedisBus } from "../../src/infra/pubsub";
import { testClusterTarget } from "../helpers/redis-keyspace";
import { waitFor } from "../helpers/wait";
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

async function subscribed(bus: RedisBus, topic: string, connections = 1): Promise<void> {
  await waitFor(async () => (await subscriberConnections(bus.channel(topic))) >= connections, `a subscriber on ${bus.channel(topic)}`, 5_000);
}

describeBusContract("redis cluster", async () => {
  const bus = createRedisBus({ url: cluster, topicPrefix });
  return { bus, subscribed: (topic) => subscribed(bus, topic), cleanup: () => bus.close() };
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
      expect(received).toEqual(masters.map((node) => ({ from: `${node.options.port}` })));
      await messages.return?.();
    } finally {
      await bus.close();
    }
  });
});
