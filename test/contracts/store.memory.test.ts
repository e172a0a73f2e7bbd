import type { Clock } from "../../src/core/ports";
import { MemoryKeyspace, MemoryStore } from "../../src/infra/store";
import { consumeSecret, describeStoreContract, storeSecret } from "./store.contract";

/** A clock the test moves by hand, so expiry is tested without sleeping. */
class ManualClock implements Clock {
  private ms = Date.parse("2030-01-01T00:00:00Z");
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

describeStoreContract("memory", async () => {
  const clock = new ManualClock();
  const store = new MemoryStore({ clock });
  return { store, advance: (ms) => clock.advance(ms), cleanup: () => store.close() };
});

describe("MemoryStore", () => {
  it("sweeps expired keys nobody reads again", async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock });
    await store.set("short", "1", 100);
    await store.set("long", "1", 10_000);
    await store.hit("window", 100);
    clock.advance(200);
    expect(store.keyspace.sweepExpired()).toBe(2);
    expect(store.keyspace.size).toBe(1);
    await store.close();
  });

  it("runs the sweep on its timer, and close() stops it", async () => {
    jest.useFakeTimers();
    try {
      const clock = new ManualClock();
      const store = new MemoryStore({ clock, sweepIntervalMs: 1_000 });
      await store.set("short", "1", 100);
      clock.advance(200);
      jest.advanceTimersByTime(1_000);
      expect(store.keyspace.size).toBe(0);
      await store.close();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it("rejects a script twin that returns what Lua could not", async () => {
    const store = new MemoryStore();
    const objectReply = { ...consumeSecret, name: "object-reply", local: () => ({ status: "ok" }) };
    await expect(store.run(objectReply, ["k"], [])).rejects.toThrow(TypeError);
    await store.close();
  });

  it("refuses in a twin what Redis refuses in Lua", () => {
    const keyspace = new MemoryKeyspace();
    keyspace.hset("hash", "field", "x");
    expect(() => keyspace.get("hash")).toThrow(/WRONGTYPE/);
    expect(() => keyspace.hincrby("hash", "field", 1)).toThrow(/not an integer/);
    expect(() => keyspace.set("string", "v", 0)).toThrow(/invalid expire time/);
    expect(() => keyspace.pexpire("hash", Number("ten"))).toThrow(/not an integer/);
  });

  it("keeps a script's TTL when the twin updates a hash", async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock });
    await store.run(storeSecret, ["secret"], ["s3cret", 1_000]);
    await store.run(consumeSecret, ["secret"], ["wrong", 5]);
    expect(store.keyspace.pttl("secret")).toBe(1_000);
    clock.advance(1_000);
    expect(store.keyspace.exists("secret")).toBe(false);
    await store.close();
  });
});
