import type { KeyValueStore } from "../core/ports";
import type { Database } from "./db/database";

/**
 * What /readyz checks. An embedded stand-in answers too, but says so: "embedded" (PGlite)
 * or "in-process" (no Redis) instead of "ok", so nobody mistakes it for the real service.
 */
export function readinessProbes(db: Pick<Database, "kind" | "ping">, store: Pick<KeyValueStore, "kind" | "ping">): Record<string, () => Promise<string | void>> {
  return {
    postgres: async () => {
      await db.ping();
      return db.kind === "pglite" ? "embedded" : undefined;
    },
    redis: async () => {
      await store.ping();
      return store.kind === "memory" ? "in-process" : undefined;
    },
  };
}
