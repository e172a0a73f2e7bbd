import { concurrencyLimit } from "./concurrency";

/** A task that stays in flight until released by the test. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const turns = () => new Promise((resolve) => setImmediate(resolve));

describe("concurrencyLimit", () => {
  it("runs at most `limit` tasks at once and starts the waiting ones in arrival order", async () => {
    const run = concurrencyLimit(2);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    let inFlight = 0;
    let most = 0;
    const results = gates.map((g, i) =>
      run(async () => {
        started.push(i);
        most = Math.max(most, ++inFlight);
        await g.opened;
        inFlight--;
        return i;
      }),
    );
    await turns();
    expect(started).toEqual([0, 1]);
    gates[1].open();
    await turns();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it("frees the slot of a task that failed", async () => {
    const run = concurrencyLimit(1);
    await expect(run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(run(async () => "next")).resolves.toBe("next");
  });

  it("refuses a limit below one", () => {
    expect(() => concurrencyLimit(0)).toThrow(RangeError);
  });
});

describe("concurrencyLimit with maxWaitMs", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("fails a task that waited too long as a dependency outage, and gives its turn to the next", async () => {
    const run = concurrencyLimit(1, { maxWaitMs: 1000, what: "password checks" });
    const first = gate();
    const running = run(() => first.opened.then(() => "first"));
    const late = run(async () => "late");
    const lateOutcome = late.then(
      () => "ran",
      (e: Error) => `${e.name}: ${e.message}`,
    );
    await jest.advanceTimersByTimeAsync(500);
    const next = run(async () => "next");
    await jest.advanceTimersByTimeAsync(500);
    expect(await lateOutcome).toBe("DependencyUnavailableError: too many password checks at once: none started within 1000 ms");
    first.open();
    expect(await running).toBe("first");
    // The one that gave up holds no place: the next in line runs when the slot frees.
    expect(await next).toBe("next");
  });

  it("runs a waiting task that gets its turn in time, and clears its timer", async () => {
    const run = concurrencyLimit(1, { maxWaitMs: 1000 });
    const first = gate();
    const running = run(() => first.opened);
    const waiting = run(async () => "waited");
    await jest.advanceTimersByTimeAsync(900);
    first.open();
    await running;
    expect(await waiting).toBe("waited");
    expect(jest.getTimerCount()).toBe(0);
  });
});
