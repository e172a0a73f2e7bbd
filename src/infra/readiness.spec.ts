import { readinessProbes } from "./readiness";

const up = async () => {};

describe("readinessProbes", () => {
  it("says embedded for PGlite and in-process for the memory store, ok for the real services", async () => {
    const embedded = readinessProbes({ kind: "pglite", ping: up }, { kind: "memory", ping: up });
    expect([await embedded.postgres(), await embedded.redis()]).toEqual(["embedded", "in-process"]);
    const real = readinessProbes({ kind: "postgres", ping: up }, { kind: "redis", ping: up });
    expect([await real.postgres(), await real.redis()]).toEqual([undefined, undefined]);
  });

  it("fails when the service does not answer", async () => {
    const down = readinessProbes({ kind: "pglite", ping: () => Promise.reject(new Error("gone")) }, { kind: "memory", ping: up });
    await expect(down.postgres()).rejects.toThrow("gone");
  });
});
