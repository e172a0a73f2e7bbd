import { MemoryBus } from "../../src/infra/pubsub";
import { describeBusContract } from "./bus.contract";

describeBusContract("memory", async () => {
  const bus = new MemoryBus();
  return { bus, cleanup: () => bus.close() };
});
