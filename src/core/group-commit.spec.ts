import { groupCommit } from "./group-commit";

/** A write that stays in flight until the test releases it, and remembers each batch. */
function recordingWrite() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const write = (items: number[]) => {
    batches.push(items);
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  return { write, batches, release: () => releases.shift()!() };
}

const turns = () => new Promise((resolve) => setImmediate(resolve));

describe("groupCommit", () => {
  it("writes what one tick adds in one batch", async () => {
    const w = recordingWrite();
    const commit = groupCommit(w.write);
    const done = [1, 2, 3].map((n) => commit.add(n));
    await turns();
    expect(w.batches).toEqual([[1, 2, 3]]);
    w.release();
    await Promise.all(done);
  });

  it("holds what arrives while a write is in flight for the next one, and answers nobody early", async () => {
    const w = recordingWrite();
    const commit = groupCommit(w.write);
    const answered: number[] = [];
    const add = (n: number) => commit.add(n).then(() => answered.push(n));
    const first = add(1);
    await turns();
    const later = [add(2), add(3)];
    await turns();
    expect(w.batches).toEqual([[1]]);
    w.release();
    await first;
    await turns();
    expect(answered).toEqual([1]);
    expect(w.batches).toEqual([[1], [2, 3]]);
    w.release();
    await Promise.all(later);
    expect(answered).toEqual([1, 2, 3]);
  });

  it("writes at most maxBatch items at a time", async () => {
    const w = recordingWrite();
    const commit = groupCommit(w.write, 2);
    const done = [1, 2, 3, 4, 5].map((n) => commit.add(n));
    await turns();
    w.release();
    await turns();
    w.release();
    await turns();
    w.release();
    await Promise.all(done);
    expect(w.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it.each([
    ["writes what waits behind a failed batch next (a lost connection)", () => false, ["down", "down", "stored"], 2],
    ["fails what waits behind it too when failsWaiting says so (a database that does not answer)", () => true, ["down", "down", "down"], 1],
  ])("fails every caller of a batch that fails; %s", async (_name, failsWaiting, expected, writes) => {
    let fail!: (error: Error) => void;
    let calls = 0;
    const commit = groupCommit<number>(() => (calls++ === 0 ? new Promise<void>((_resolve, reject) => (fail = reject)) : Promise.resolve()), 100, failsWaiting);
    const message = (p: Promise<void>) => p.then(() => "stored", (e: Error) => e.message);
    const inFlight = [commit.add(1), commit.add(2)].map(message);
    await turns();
    const behind = message(commit.add(3));
    fail(new Error("down"));
    expect(await Promise.all([...inFlight, behind])).toEqual(expected);
    expect(calls).toBe(writes);
    await expect(commit.add(4)).resolves.toBeUndefined();
  });

  it("gives each caller its own item's outcome when the write reports them", async () => {
    const commit = groupCommit<number>(async (items) => items.map((n): PromiseSettledResult<unknown> => (n % 2 ? { status: "fulfilled", value: n } : { status: "rejected", reason: new Error(`bad ${n}`) })));
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => commit.add(n)));
    expect(outcomes.map((o) => (o.status === "rejected" ? (o.reason as Error).message : "ok"))).toEqual(["ok", "bad 2", "ok", "bad 4"]);
  });

  it("drained waits for everything added so far", async () => {
    const w = recordingWrite();
    const commit = groupCommit(w.write, 1);
    let stored = 0;
    for (const n of [1, 2]) void commit.add(n).then(() => stored++);
    let drained = false;
    void commit.drained().then(() => (drained = true));
    await turns();
    w.release();
    await turns();
    expect(drained).toBe(false);
    w.release();
    await commit.drained();
    expect(stored).toBe(2);
    await expect(groupCommit(w.write).drained()).resolves.toBeUndefined();
  });
});
