import { generateKeyPairSync } from "node:crypto";
import { secondFactorsFor } from "../core/auth-method";
import type { KeyValueStore, NewSession, Repositories, SessionRecord, SessionRepo, UserRecord } from "../core/ports";
import { SECOND_FACTORS } from "../methods";
import { RevocationMarkers } from "./revocation-markers";
import { SessionService } from "./session.service";
import { createKeyRing, signingKeyFromPem } from "./signing-keys";
import { TokenService } from "./tokens";

/*
 * The rules completeSecondFactor enforces whatever method calls it: the integration tests
 * reach them through requestOtp's own refusal first, so only here is the last line tested.
 */

const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const tokens = new TokenService(createKeyRing(signingKeyFromPem(pem)), { issuer: "https://auth.test", audience: "graphql", accessTtlSeconds: 900 });

/** Just enough of a store and a session table for sign-ins. */
function fakes() {
  const kv = new Map<string, string>();
  const store = {
    kind: "memory",
    get: async (k: string) => kv.get(k) ?? null,
    set: async (k: string, v: string) => void kv.set(k, v),
    setIfAbsent: async (k: string, v: string) => (kv.has(k) ? false : (kv.set(k, v), true)),
  } as unknown as KeyValueStore;
  const created: NewSession[] = [];
  const sessions = {
    create: async (s: NewSession): Promise<SessionRecord> => {
      created.push(s);
      const at = new Date();
      return {
        id: `s${created.length}`,
        userId: s.userId,
        aal: s.aal,
        amr: s.amr,
        firstFactorAmr: s.firstFactorAmr,
        aal2At: s.aal === "aal2" ? at : null,
        userAgent: null,
        ip: null,
        createdAt: at,
        lastUsedAt: at,
        expiresAt: s.expiresAt,
        revokedAt: null,
      };
    },
  } as unknown as SessionRepo;
  const audit = { record: async () => {} };
  const clock = { now: () => new Date() };
  const log = { info: () => {}, warn: () => {} };
  const service = new SessionService({
    sessions,
    tokens,
    store,
    markers: new RevocationMarkers({ sessions, store, audit, clock, log, accessTtlSeconds: 900 }),
    audit: { record: async () => {} },
    clock: { now: () => new Date() },
    refreshTtlSeconds: 3600,
    lifetimes: { idleTimeoutSeconds: 3600, aal2MaxAgeSeconds: 3600, aal2IdleSeconds: 1800 },
    // The methods' own second factors, as the gateway passes them (the passkey one asks its table: none here).
    secondFactors: secondFactorsFor(SECOND_FACTORS, { sessions, passkeys: { countByUser: async () => 0 } } as unknown as Repositories),
  });
  return { service, created };
}

const user: UserRecord = {
  id: "u1",
  email: "a@example.com",
  emailVerified: true,
  phone: "+12025550100",
  phoneVerified: true,
  passwordHash: null,
  totpEnabled: true,
  credentialsVersion: 0,
  waysInVersion: 0,
  createdAt: new Date(),
};
const client = { ip: null, userAgent: null };
const EMAIL = { amr: "otp", authenticator: "email" } as const;

async function mfaTokenAfter(service: SessionService, factor: typeof EMAIL | { amr: string; authenticator: "password" }) {
  const r = await service.completeFirstFactor(user, factor, client);
  if (r.status !== "MFA_REQUIRED") throw new Error("expected MFA_REQUIRED");
  return r;
}

describe("SessionService.completeSecondFactor", () => {
  it("refuses the authenticator the first factor used, naming channel, and starts no session", async () => {
    const { service, created } = fakes();
    const first = await mfaTokenAfter(service, EMAIL);
    expect(first.mfaMethods).toEqual(["TOTP", "RECOVERY_CODE", "SMS_OTP"]);
    const grant = await service.resolveMfaToken(first.mfaToken);
    expect(grant.factors).toEqual(["email"]);
    await expect(service.completeSecondFactor(user, grant, EMAIL, client)).rejects.toMatchObject({ code: "BAD_USER_INPUT", details: { field: "channel" } });
    expect(created).toHaveLength(0);
    // The token was not spent by the refusal: a different factor still finishes.
    const done = await service.completeSecondFactor(user, grant, { amr: "sms", authenticator: "phone" }, client);
    expect(done.status).toBe("AUTHENTICATED");
    expect(created[0]).toMatchObject({ aal: "aal2", amr: ["otp", "sms", "mfa"], firstFactorAmr: ["otp"] });
  });

  it("finishes one sign-in per mfaToken: a second completion and a later resolve are UNAUTHENTICATED", async () => {
    const { service, created } = fakes();
    const first = await mfaTokenAfter(service, { amr: "pwd", authenticator: "password" });
    const grant = await service.resolveMfaToken(first.mfaToken);
    const totp = { amr: "otp", authenticator: "totp" } as const;
    const both = await Promise.allSettled([service.completeSecondFactor(user, grant, totp, client), service.completeSecondFactor(user, grant, EMAIL, client)]);
    expect(both.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(both.find((r) => r.status === "rejected")).toMatchObject({ reason: { code: "UNAUTHENTICATED" } });
    expect(created).toHaveLength(1);
    await expect(service.resolveMfaToken(first.mfaToken)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });
});
