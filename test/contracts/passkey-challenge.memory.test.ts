import { createMemoryStore } from "../../src/infra/store";
import { describePasskeyChallengeContract } from "./passkey-challenge.contract";
import { ManualClock } from "./otp-challenge.contract";

describePasskeyChallengeContract("memory", async () => {
  const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
  const store = createMemoryStore({ clock });
  return { store, pass: async (ms) => clock.advance(ms), cleanup: () => store.close() };
});
