import { randomUUID } from "node:crypto";
import { BUS_RESYNC } from "../../src/core/ports";
import { createRedisBus, type RedisBus } from "../../src/infra/pubsub";
import { cli, startLocalRedisCluster, stopLocalRedisCluster, untilClusterOk, type LocalRedisCluster } from "../helpers/redis-cluster";

/*
 * A cluster of its own (three masters, a replica each), since a node is killed here: the
 * run's shared cluster serves every other file. When the node holding a bus's pattern
 * subscription goes, ioredis moves the subscription to another node by itself, and says
 * nothing to its listeners; what was published in between is lost, so the bus must tell
 * its listeners to read the state again (BUS_RESYNC) and keep hearing what comes after.
 */

let own: LocalRedisCluster;
const ports = () => own.nodes.split(",").map((node) => Number(node.split(":")[1]));
const target = () => ({ cluster: ports().map((port) => ({ host: "127.0.0.1", port })) });

beforeAll(async () => {
  own = await startLocalRedisCluster(1);
}, 30_000);
afterAll(async () => {
  if (own) await stopLocalRedisCluster(own);
});

/** The port of the node where some connection holds a pattern subscription, and how many do. */
async function patternSubscriberNodes(alive: number[]): Promise<number[]> {
  const lists = await Promise.all(alive.map(async (port) => ({ port, clients: await cli(port, "CLIENT", "LIST") })));
  return lists.filter(({ clients }) => /\bpsub=[1-9]/.test(clients)).map(({ port }) => port);
}

/** Waits until `port`'s node lists the node at `failed` as failed. */
async function untilFlaggedFailed(port: number, failed: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const line = (await cli(port, "CLUSTER", "NODES")).split("\n").find((l) => l.includes(`:${failed}@`));
    if (line && /\bfail\b/.test(line.split(" ")[2])) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`node ${failed} was not flagged as failed`);
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("RedisBus when the cluster node holding its subscription goes", () => {
  let bus: RedisBus;
  let publisher: RedisBus;
  afterEach(async () => {
    await Promise.all([bus?.close(), publisher?.close()]);
  });

  it("tells its listeners to read again, then hears what is published on the cluster after", async () => {
    const topicPrefix = `failover:${randomUUID()}:`;
    bus = createRedisBus({ url: target(), topicPrefix });
    publisher = createRedisBus({ url: target(), topicPrefix });
    const topic = `magic-link:${randomUUID()}`;
    const messages = await bus.listen<{ n: number }>(topic);
    await publisher.publish(topic, { n: 1 });
    expect((await within(5_000, "the first event", messages.next())).value).toEqual({ n: 1 });

    const [holder] = await patternSubscriberNodes(ports());
    expect(holder).toBeDefined();
    const child = own.children[ports().indexOf(holder)];
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await gone;

    expect((await within(20_000, "a resync after the node left", messages.next())).value).toBe(BUS_RESYNC);
    const alive = ports().filter((port) => port !== holder);
    // A master that left is replaced by its replica once the others agree it failed (cluster-node-timeout).
    await untilFlaggedFailed(alive[0], holder);
    await untilClusterOk(alive, 20_000);
    expect(await patternSubscriberNodes(alive)).toHaveLength(1);
    // Until every client has seen the new slot map a publish may fail: the bus's callers retry as users would.
    for (let n = 2; ; n++) {
      const sent = await publisher.publish(topic, { n }).then(
        () => true,
        () => false,
      );
      if (!sent) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const next = await within(5_000, "an event after the failover", messages.next());
      expect(next.value).toEqual({ n });
      break;
    }
  }, 60_000);
});
