import { randomBytes, randomUUID } from "node:crypto";
import { createDeliveryQueue } from "../../src/infra/delivery";
import { deleteKeysUnder, testClusterTarget } from "../helpers/redis-keyspace";
import { describeDeliveryQueueContract } from "./delivery-queue.contract";

// The run's 3-master Redis Cluster (global-setup); BullMQ keys of this file only.
const cluster = testClusterTarget();
const filePrefix = `test-delivery-cluster-${randomUUID()}`;
let queues = 0;
const payloadKey = randomBytes(32);

afterAll(async () => {
  await deleteKeysUnder(cluster, filePrefix);
});

describeDeliveryQueueContract("BullMQ over a Redis Cluster", (options) =>
  createDeliveryQueue({ ...options, redisUrl: cluster, queuePrefix: `${filePrefix}-${++queues}`, payloadKey }),
);
