import { MemoryBus } from "../../src/infra/pubsub";
import { describeBusContract } from "./bus.contract";

describeBusContract("memory", async () => {
  const bus = new MemoryBus();
  // Subscriptions listen from subscribe(); there is nothing to wait for.
  return { bus, subscribed: async () => {}, cleanup: () => bus.close() };
});
