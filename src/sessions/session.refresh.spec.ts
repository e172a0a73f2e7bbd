import { generateKeyPairSync } from "node:crypto";
import type { KeyValueStore, SessionRecord, SessionRepo } from "../core/ports";
import { RevocationMarkers } from "./revocation-markers";
import { SessionService } from "./session.service";
import { createKeyRing, signingKeyFromPem } from "./signing-keys";
import { TokenService } from "./tokens";

/*
 * A refresh whose aal2 lapsed: its audit row is written before the rotation, so that once the
 * client's token is spent nothing can fail the answer (a retry with the spent token would be
 * taken for reuse and end the session). Fakes of our own ports; the rotation itself is tested
 * on Postgres (test/integration/token-rotation.test.ts, session-lifetimes.test.ts).
 */

const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const tokens = new TokenService(createKeyRing(signingKeyFromPem(pem)), { issuer: "https://auth.test", audience: "graphql", accessTtlSeconds: 900 });

function refreshWithLapsedAal2(auditFails: boolean) {
  const hourAgo = new Date(Date.now() - 3600_000);
  const session: SessionRecord = {
    id: "s1",
    userId: "u1",
    aal: "aal2",
    amr: ["pwd", "otp", "mfa"],
    firstFactorAmr: ["pwd"],
    aal2At: hourAgo,
    userAgent: null,
    ip: null,
    createdAt: hourAgo,
    // Refreshed 40 minutes ago: past AAL2_IDLE_SECONDS (30 min), within the idle timeout.
    lastUsedAt: new Date(Date.now() - 40 * 60_000),
    expiresAt: new Date(Date.now() + 86400_000),
    revokedAt: null,
  };
  const steps: string[] = [];
  const sessions = {
    findByRefreshTokenHash: async () => ({ rotatedAt: null, tokenId: "t1", session }),
    rotate: async () => {
      steps.push("rotate");
      return "rotated" as const;
    },
  } as unknown as SessionRepo;
  const audit = {
    record: async (e: { type: string }) => {
      steps.push(e.type);
      if (auditFails) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    },
  };
  const store = { kind: "memory", get: async () => null, set: async () => {} } as unknown as KeyValueStore;
  const clock = { now: () => new Date() };
  const service = new SessionService({
    sessions,
    tokens,
    store,
    markers: new RevocationMarkers({ sessions, store, audit, clock, log: { info: () => {}, warn: () => {} }, accessTtlSeconds: 900 }),
    audit,
    clock,
    refreshTtlSeconds: 86400,
    lifetimes: { idleTimeoutSeconds: 86400, aal2MaxAgeSeconds: 12 * 3600, aal2IdleSeconds: 1800 },
    secondFactors: async () => [],
  });
  return { refresh: () => service.refresh("the-refresh-token", { ip: null, userAgent: null }), steps };
}

describe("SessionService.refresh with a lapsed aal2", () => {
  it("records the lapse, then rotates, and answers aal1 tokens", async () => {
    const r = refreshWithLapsedAal2(false);
    const issued = await r.refresh();
    expect(r.steps).toEqual(["session.aal2_lapsed", "rotate"]);
    expect(tokens.verifyAccess(issued.accessToken)).toMatchObject({ aal: "aal1", amr: ["pwd"] });
  });

  it("fails before the rotation when the lapse cannot be recorded: the client's token is not spent", async () => {
    const r = refreshWithLapsedAal2(true);
    await expect(r.refresh()).rejects.toThrow(/ECONNREFUSED/);
    expect(r.steps).toEqual(["session.aal2_lapsed"]);
  });
});
