import { createRedisStore } from "../../src/infra/store";
import { useRedisClusterKeyspace } from "../helpers/redis-keyspace";
import { describePasskeyChallengeContract } from "./passkey-challenge.contract";

// The run's 3-master Redis Cluster (global-setup): a challenge's take works whichever node holds it.
const { url: cluster, keyPrefix } = useRedisClusterKeyspace("passkey");

describePasskeyChallengeContract("redis cluster", async () => {
  const store = createRedisStore({ url: cluster, keyPrefix });
  return { store, pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), cleanup: () => store.close() };
});
