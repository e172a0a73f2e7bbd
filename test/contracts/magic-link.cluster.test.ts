import { createRedisStore } from "../../src/infra/store";
import { useRedisClusterKeyspace } from "../helpers/redis-keyspace";
import { describeMagicLinkContract } from "./magic-link.contract";
import { ManualClock } from "./otp-challenge.contract";

// The run's 3-master Redis Cluster (global-setup): every script's KEYS must share a slot.
const { url: cluster, keyPrefix } = useRedisClusterKeyspace("magic-link");

describeMagicLinkContract("redis cluster", async () => {
  const store = createRedisStore({ url: cluster, keyPrefix });
  return { store, clock: new ManualClock(), cleanup: () => store.close() };
});
