import { randomUUID } from "node:crypto";
import { createRedisStore } from "../../src/infra/store";
import { useRedisClusterKeyspace } from "../helpers/redis-keyspace";
import { describeSmsGuardContract } from "./sms-guard.contract";

// The run's 3-master Redis Cluster (global-setup): every script's KEYS must share a slot.
const { url: cluster, keyPrefix: filePrefix } = useRedisClusterKeyspace("sms-guard");

// A prefix per test: the guard's keys are named by country and day, which tests share.
describeSmsGuardContract("redis cluster", async () => {
  const store = createRedisStore({ url: cluster, keyPrefix: `${filePrefix}${randomUUID()}:` });
  return { store, cleanup: () => store.close() };
});
