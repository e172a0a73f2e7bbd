import { UnreachableError, waitUntilAllReachable, waitUntilReachable, type Dependency } from "./wait-until-reachable";

/** A clock that moves only when the code under test sleeps. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)) };
}

function logSpy() {
  const lines: string[] = [];
  return { lines, warn: (m: string) => void lines.push(`warn ${m}`), info: (m: string) => void lines.push(`info ${m}`) };
}

const refusing = (name: string, failures = Infinity): Dependency & { calls: number } => {
  const dep = {
    name,
    redactedUrl: `${name.toLowerCase()}://u:***@db:1`,
    calls: 0,
    async probe() {
      dep.calls++;
      if (dep.calls <= failures) throw new Error("connect ECONNREFUSED 10.0.0.1:1");
    },
  };
  return dep;
};

describe("waitUntilReachable", () => {
  it("returns at once when the dependency answers, saying nothing", async () => {
    const log = logSpy();
    const time = fakeTime();
    await waitUntilReachable(refusing("Postgres", 0), { forMs: 30_000, log, ...time });
    expect(log.lines).toEqual([]);
    expect(time.sleeps).toEqual([]);
  });

  it("retries with a growing pause and says so in one line, then once more when it answers", async () => {
    const log = logSpy();
    const time = fakeTime();
    const dep = refusing("Postgres", 4);
    await waitUntilReachable(dep, { forMs: 30_000, log, ...time });
    expect(dep.calls).toBe(5);
    expect(time.sleeps).toEqual([250, 500, 1000, 2000]);
    expect(log.lines).toEqual([
      "warn Postgres at postgres://u:***@db:1 is not available (connect ECONNREFUSED 10.0.0.1:1); retrying for up to 30 s",
      "info Postgres at postgres://u:***@db:1 answers (attempt 5)",
    ]);
  });

  it("gives up after the bounded time with a line naming the dependency, its URL and why", async () => {
    const time = fakeTime();
    const dep = refusing("Redis");
    const failure = await waitUntilReachable(dep, { forMs: 10_000, log: logSpy(), ...time }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UnreachableError);
    expect((failure as UnreachableError).lines).toEqual([expect.stringMatching(/^Redis at redis:\/\/u:\*\*\*@db:1 is not available \(connect ECONNREFUSED 10\.0\.0\.1:1\) after \d+ attempts in 10 s; exiting$/)]);
    // Pauses double up to 5 s, and the last one ends at the deadline, not past it.
    expect(time.sleeps.slice(0, 6)).toEqual([250, 500, 1000, 2000, 4000, 2250]);
    expect(time.now()).toBe(10_000);
  });

  it("with no time to retry tries once", async () => {
    const dep = refusing("Redis");
    await expect(waitUntilReachable(dep, { forMs: 0, log: logSpy(), ...fakeTime() })).rejects.toThrow(/^Redis at .* is not available \(connect ECONNREFUSED 10\.0\.0\.1:1\); exiting$/);
    expect(dep.calls).toBe(1);
  });

  it("reads Node's AggregateError (IPv4 and IPv6 both refused), which has no message", async () => {
    const dep: Dependency = {
      name: "Postgres",
      redactedUrl: "postgres://localhost",
      probe: async () => {
        throw new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:5432"), { code: "ECONNREFUSED" }), new Error("connect ECONNREFUSED 127.0.0.1:5432")]);
      },
    };
    await expect(waitUntilReachable(dep, { forMs: 0, log: logSpy(), ...fakeTime() })).rejects.toThrow("(connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432)");
  });
});

describe("waitUntilAllReachable", () => {
  it("names every dependency that stays down", async () => {
    const failure = (await waitUntilAllReachable([refusing("Postgres"), refusing("Redis", 1), refusing("Redis")], { forMs: 1_000, log: logSpy(), ...fakeTime() }).catch(
      (e: unknown) => e,
    )) as UnreachableError;
    expect(failure.lines.map((l) => l.split(" ")[0])).toEqual(["Postgres", "Redis"]);
  });
});
