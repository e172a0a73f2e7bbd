import { createMemoryStore } from "../../src/infra/store";
import { EXPIRED_LINK_GRACE_MS, MagicLinkStore } from "../../src/methods/magic-link/magic-link.store";
import { describeMagicLinkContract } from "./magic-link.contract";
import { ManualClock } from "./otp-challenge.contract";

// One clock for the store and the links, so moving it ages the keys too.
describeMagicLinkContract("memory", async () => {
  const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
  const store = createMemoryStore({ clock });
  return { store, clock, cleanup: () => store.close() };
});

describe("MagicLinkStore on the in-process store", () => {
  const base = { matchCode: "47", ttlSeconds: 60, redirectUrl: null, userAgent: null, ip: null };

  it("answers EXPIRED during the grace period, UNKNOWN once it is over, and keeps no key", async () => {
    const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
    const store = createMemoryStore({ clock });
    const links = new MagicLinkStore(store, clock, { maxMatchAttempts: 5 });
    await links.create({ ...base, requestId: "in-grace", token: "token-a", listenToken: "listen-a", email: "a@example.com" });
    await links.create({ ...base, requestId: "past-grace", token: "token-b", listenToken: "listen-b", email: "b@example.com" });
    clock.advance(60_000 + EXPIRED_LINK_GRACE_MS - 1);
    expect(await links.consume("token-a", "47")).toEqual({ status: "EXPIRED" });
    expect((await links.state("in-grace"))?.state).toBe("EXPIRED");
    clock.advance(1);
    expect(await links.consume("token-b", "47")).toEqual({ status: "UNKNOWN" });
    expect(await links.open("token-a")).toEqual({ status: "UNKNOWN" });
    expect(await links.state("in-grace")).toBeNull();
    expect(await links.watch("past-grace", "listen-b")).toBeNull();
    store.keyspace.sweepExpired();
    expect(store.keyspace.size).toBe(0);
    await store.close();
  });
});
