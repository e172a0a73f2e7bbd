import { createHash, generateKeyPairSync } from "node:crypto";
import { decodeProtectedHeader, importSPKI, jwtVerify } from "jose";
import { waysInFor } from "../../core/auth-method";
import type { Repositories, UserRecord } from "../../core/ports";
import { appleClientSecret, nonceMatches } from "./social.upstream";

describe("nonceMatches", () => {
  it("takes the nonce in clear or as its SHA-256 hex (Apple's native SDK), nothing else", () => {
    const hex = createHash("sha256").update("abc").digest("hex");
    expect(nonceMatches("abc", "abc")).toBe(true);
    expect(nonceMatches(hex, "abc")).toBe(true);
    expect(nonceMatches(hex.toUpperCase(), "abc")).toBe(false);
    expect(nonceMatches(undefined, "abc")).toBe(false);
    expect(nonceMatches("", "")).toBe(false);
  });
});

describe("appleClientSecret", () => {
  it("is an ES256 JWT from the team, for the Services ID, to Apple, short-lived", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const now = Date.UTC(2026, 11, 1);
    const jwt = await appleClientSecret("com.example.web", { teamId: "TEAM123456", keyId: "KEY1234567", privateKeyPem: pem }, now);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: "ES256", kid: "KEY1234567" });
    const key = await importSPKI(publicKey.export({ format: "pem", type: "spki" }).toString(), "ES256");
    const { payload } = await jwtVerify(jwt, key, { issuer: "TEAM123456", subject: "com.example.web", audience: "https://appleid.apple.com", currentDate: new Date(now) });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(180 * 86400);
  });
});

describe("waysInFor", () => {
  it("counts the distinct ways in across methods: a code and a link to one mailbox are one", async () => {
    const user = { id: "u" } as UserRecord;
    const count = waysInFor([{ waysIn: () => ["email"] }, { waysIn: () => ["email", "phone"] }, { waysIn: async () => ["identity:1"] }, {}], {} as Repositories, {});
    expect(await count(user)).toBe(3);
  });
});
