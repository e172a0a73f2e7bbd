import { createRedisStore } from "../../src/infra/store";
import { useRedisKeyspace } from "../helpers/redis-keyspace";
import { describePasskeyChallengeContract } from "./passkey-challenge.contract";

const { url, keyPrefix } = useRedisKeyspace("passkey");

// Redis keeps real time for its TTLs: the expiry case waits for them.
describePasskeyChallengeContract("redis", async () => {
  const store = createRedisStore({ url, keyPrefix });
  return { store, pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), cleanup: () => store.close() };
});
