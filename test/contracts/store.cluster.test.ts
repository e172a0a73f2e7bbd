import { randomUUID } from "node:crypto";
import { createRedisStore, probeRedis } from "../../src/infra/store";
import { startLoneClusterNode } from "../helpers/redis-cluster";
import { useRedisClusterKeyspace } from "../helpers/redis-keyspace";
import { describeStoreContract } from "./store.contract";

// The run's 3-master Redis Cluster (global-setup), under this file's own prefix.
const { url: cluster, keyPrefix, raw, keysUnder } = useRedisClusterKeyspace("store");

describeStoreContract("redis cluster", async () => {
  const store = createRedisStore({ url: cluster, keyPrefix });
  return { store, cleanup: () => store.close() };
});

describe("RedisStore on a Redis Cluster", () => {
  it("spreads keys over the masters and deletes several in different slots at once", async () => {
    const store = createRedisStore({ url: cluster, keyPrefix });
    try {
      const keys = Array.from({ length: 12 }, (_, i) => `spread:${i}:${randomUUID()}`);
      for (const key of keys) await store.set(key, "1", 10_000);
      const slots = new Set(await Promise.all(keys.map(async (key) => Number(await raw().cluster("KEYSLOT", `${keyPrefix}${key}`)))));
      expect(slots.size).toBeGreaterThan(1);
      expect(await store.del(...keys, "spread:missing")).toBe(keys.length);
      expect((await keysUnder()).filter((k) => k.includes("spread:"))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("is ready when every slot is served", async () => {
    const store = createRedisStore({ url: cluster, keyPrefix });
    try {
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe("probeRedis on a Redis Cluster (the startup check)", () => {
  it("passes when the cluster serves every slot, even if the first node given is down", async () => {
    await expect(probeRedis({ cluster: [{ host: "127.0.0.1", port: 1 }, ...cluster.cluster] }, 500)).resolves.toBeUndefined();
  });

  it("refuses a node that serves no slot, saying its cluster_state", async () => {
    const lone = await startLoneClusterNode();
    try {
      await expect(probeRedis({ cluster: [{ host: "127.0.0.1", port: lone.port }] }, 500)).rejects.toThrow(
        `127.0.0.1:${lone.port} reports cluster_state:fail, not ok (are all slots assigned?)`,
      );
    } finally {
      await lone.stop();
    }
  });
});
