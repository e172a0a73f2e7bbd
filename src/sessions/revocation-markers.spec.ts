import { MemoryAuditLog } from "../../test/helpers/audit";
import { waitFor } from "../../test/helpers/wait";
import type { KeyValueStore, RevokedSession, SessionRepo } from "../core/ports";
import { RevocationMarkers } from "./revocation-markers";

/** A store whose writes fail like a lost Redis while `down`, and a table of revocations. */
function fakes(periodMs?: number) {
  const kv = new Map<string, string>();
  const state = { down: false, reads: 0, gate: null as Promise<void> | null };
  const store = {
    kind: "redis",
    set: async (k: string, v: string) => {
      if (state.down) throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });
      kv.set(k, v);
    },
  } as unknown as KeyValueStore;
  const revoked: RevokedSession[] = [];
  const sessions = {
    listRevokedSince: async () => {
      const read = [...revoked];
      state.reads++;
      // A test may hold a sync between its read and its writes.
      if (state.gate) await state.gate;
      return read;
    },
  } as unknown as SessionRepo;
  const audit = new MemoryAuditLog();
  const markers = new RevocationMarkers({
    sessions,
    store,
    audit,
    clock: { now: () => new Date() },
    log: { info: () => {}, warn: () => {} },
    accessTtlSeconds: 900,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    periodMs,
  });
  /** A revocation as SessionService makes it: the row, then the marker. */
  const revoke = async (id: string) => {
    revoked.push({ id, reason: "logout" });
    return markers.write(id, "logout");
  };
  const started = async () => {
    markers.start();
    await waitFor(() => !markers.pending, "the start sync");
  };
  return { kv, state, markers, audit, revoked, revoke, started };
}

describe("RevocationMarkers", () => {
  it("is pending until the start sync has run", async () => {
    const { markers, started } = fakes();
    expect(markers.pending).toBe(true);
    await started();
    await markers.stop();
  });

  it("keeps a failed marker pending, retries until the store takes it, and audits that sync", async () => {
    const { kv, state, markers, audit, revoke, started } = fakes();
    await started();
    state.down = true;
    expect(await revoke("s1")).toBe(false);
    await waitFor(() => state.reads >= 3, "retries while the store is down");
    expect(markers.pending).toBe(true);
    state.down = false;
    await waitFor(() => !markers.pending, "the sync");
    expect(kv.get("session:revoked:s1")).toBe("logout");
    expect(audit.ofType("session.revocation_marker_synced")).toEqual([
      expect.objectContaining({ ok: true, detail: expect.objectContaining({ markers: 1, failedWrites: 1 }) }),
    ]);
    // The store answers again: markers are written at once.
    expect(await revoke("s2")).toBe(true);
    await markers.stop();
  });

  it("leaves to the sync what is revoked while the store fails, so that no revocation waits out a timeout", async () => {
    const { kv, state, markers, revoke, started } = fakes();
    await started();
    state.down = true;
    await revoke("s1");
    state.down = false;
    // s2 is not written by write() but by the sync that s1's failure scheduled.
    expect(await revoke("s2")).toBe(false);
    await waitFor(() => !markers.pending, "the sync");
    expect([...kv.keys()].sort()).toEqual(["session:revoked:s1", "session:revoked:s2"]);
    await markers.stop();
  });

  it("syncs again after a failure during a sync: that sync may have read the table before the revocation", async () => {
    const { kv, state, markers, revoke, started } = fakes();
    await started();
    state.down = true;
    await revoke("s1");
    state.down = false;
    let release!: () => void;
    state.gate = new Promise<void>((r) => (release = r));
    const readsBefore = state.reads;
    await waitFor(() => state.reads > readsBefore, "the retry to read the table");
    await revoke("s2"); // after that read: not in what the running sync writes
    state.gate = null;
    release();
    await waitFor(() => !markers.pending, "the second sync");
    expect(kv.has("session:revoked:s2")).toBe(true);
    await markers.stop();
  });

  it("syncs every period when nothing failed here: a marker lost elsewhere (a crashed instance, a store restart) comes back", async () => {
    const { kv, markers, revoked, started } = fakes(5);
    await started();
    // Revoked in Postgres by an instance that died before writing the marker.
    revoked.push({ id: "s9", reason: "logout" });
    await waitFor(() => kv.has("session:revoked:s9"), "a periodic sync");
    expect(markers.pending).toBe(false);
    await markers.stop();
  });

  it("stops retrying once stopped", async () => {
    const { state, markers, revoke, started } = fakes();
    await started();
    state.down = true;
    await revoke("s1");
    await markers.stop();
    const reads = state.reads;
    await new Promise((r) => setTimeout(r, 30));
    expect(state.reads).toBe(reads);
    expect(markers.pending).toBe(true);
  });
});
