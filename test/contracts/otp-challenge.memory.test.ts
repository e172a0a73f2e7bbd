import { randomBytes } from "node:crypto";
import { createMemoryStore } from "../../src/infra/store";
import { EXPIRED_CHALLENGE_GRACE_MS, OtpChallengeStore } from "../../src/methods/otp/otp-challenge.store";
import { ManualClock, describeOtpChallengeContract } from "./otp-challenge.contract";

// One clock for the store and the challenges, so moving it ages the keys too.
describeOtpChallengeContract("memory", async () => {
  const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
  const store = createMemoryStore({ clock });
  return { store, clock, cleanup: () => store.close() };
});

describe("OtpChallengeStore on the in-process store", () => {
  it("answers EXPIRED during the grace period and UNKNOWN once it is over", async () => {
    const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
    const store = createMemoryStore({ clock });
    const challenges = new OtpChallengeStore(store, clock, randomBytes(32));
    const base = { code: "4185029376", purpose: "SIGN_IN", channel: "EMAIL", userId: null, ttlSeconds: 60, maxAttempts: 5 };
    await challenges.create({ ...base, challengeId: "in-grace", destination: "a@example.com" });
    await challenges.create({ ...base, challengeId: "past-grace", destination: "b@example.com" });
    clock.advance(60_000 + EXPIRED_CHALLENGE_GRACE_MS - 1);
    expect(await challenges.verify("in-grace", "4185029376")).toEqual({ status: "EXPIRED" });
    clock.advance(1);
    expect(await challenges.verify("past-grace", "4185029376")).toEqual({ status: "UNKNOWN" });
    await store.close();
  });
});
