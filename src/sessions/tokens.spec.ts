import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { createKeyRing, deriveSecret, signingKeyFromPem } from "./signing-keys";
import { hashToken, newRefreshToken, TokenService } from "./tokens";

const pem = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const key = signingKeyFromPem(pem());
const service = (ring = createKeyRing(key)) => new TokenService(ring, { issuer: "https://auth.test", audience: "graphql", accessTtlSeconds: 900 });

describe("TokenService", () => {
  const tokens = service();
  const claims = { userId: "u1", sessionId: "s1", aal: "aal1" as const, amr: ["pwd"] };

  it("round-trips an access token with the contract's claims", () => {
    const verified = tokens.verifyAccess(tokens.signAccess(claims));
    expect(verified).toMatchObject({ sub: "u1", sid: "s1", aal: "aal1", amr: ["pwd"] });
    expect(verified!.exp - verified!.iat).toBe(900);
  });

  it("refuses a token it verified before once it expires (verified tokens are remembered, their expiry is not)", () => {
    const now = Date.now();
    const clock = jest.spyOn(Date, "now").mockReturnValue(now);
    try {
      const token = tokens.signAccess(claims);
      expect(tokens.verifyAccess(token)).not.toBeNull();
      clock.mockReturnValue(now + 899_000);
      expect(tokens.verifyAccess(token)).not.toBeNull();
      clock.mockReturnValue(now + 900_000);
      expect(tokens.verifyAccess(token)).toBeNull();
      clock.mockReturnValue(now);
      // Forgotten once refused: the answer does not come back from the cache.
      expect(tokens.verifyAccess(token)).not.toBeNull();
    } finally {
      clock.mockRestore();
    }
  });

  it("never accepts an mfaToken as an access token, nor the reverse", () => {
    const mfa = tokens.signMfa({ userId: "u1", amr: ["pwd"], factors: ["password"], credentialsVersion: 2 });
    expect(tokens.verifyMfa(mfa)).toMatchObject({ sub: "u1", amr: ["pwd"], factors: ["password"], jti: expect.any(String), cv: 2 });
    expect(tokens.verifyAccess(mfa)).toBeNull();
    expect(tokens.verifyMfa(tokens.signAccess(claims))).toBeNull();
  });

  it("refuses a token signed by a key it does not publish", () => {
    const other = service(createKeyRing(signingKeyFromPem(pem())));
    expect(tokens.verifyAccess(other.signAccess(claims))).toBeNull();
  });

  it("refuses alg none and HS256 forgeries that reuse the kid", () => {
    const none = jwt.sign({ sid: "s1", aal: "aal2", amr: ["pwd"] }, "", { algorithm: "none", subject: "u1", audience: "graphql", issuer: "https://auth.test", header: { alg: "none", typ: "at+jwt", kid: key.kid } as jwt.JwtHeader });
    expect(tokens.verifyAccess(none)).toBeNull();
    const hs = jwt.sign({ sid: "s1", aal: "aal2", amr: ["pwd"] }, "secret", { algorithm: "HS256", subject: "u1", audience: "graphql", issuer: "https://auth.test", keyid: key.kid, header: { alg: "HS256", typ: "at+jwt", kid: key.kid } });
    expect(tokens.verifyAccess(hs)).toBeNull();
  });

  it("refuses a token without exp, even signed with the real key (jsonwebtoken does not require one)", () => {
    const forever = (typ: string, audience: string) =>
      jwt.sign({ sid: "s1", aal: "aal2", amr: ["pwd"] }, key.privateKey, { algorithm: "ES256", subject: "u1", audience, issuer: "https://auth.test", header: { alg: "ES256", typ, kid: key.kid } });
    expect(tokens.verifyAccess(forever("at+jwt", "graphql"))).toBeNull();
    expect(tokens.verifyMfa(forever("mfa+jwt", "https://auth.test/mfa"))).toBeNull();
    // The same token with an exp passes: only the missing claim is refused.
    const withExp = jwt.sign({ sid: "s1", aal: "aal2", amr: ["pwd"] }, key.privateKey, { algorithm: "ES256", subject: "u1", audience: "graphql", issuer: "https://auth.test", expiresIn: 60, header: { alg: "ES256", typ: "at+jwt", kid: key.kid } });
    expect(tokens.verifyAccess(withExp)).toMatchObject({ sub: "u1" });
  });

  it("verifies tokens of a retired key that is still published (rotation)", () => {
    const next = signingKeyFromPem(pem());
    const old = service(createKeyRing(key));
    const rotated = service(createKeyRing(next, [key.jwk]));
    expect(rotated.verifyAccess(old.signAccess(claims))).toMatchObject({ sub: "u1" });
    expect(createKeyRing(next, [key.jwk]).jwks().keys.map((k) => k.kid)).toEqual([next.kid, key.kid]);
  });
});

describe("signing keys", () => {
  it("refuses a key that is not P-256", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    expect(() => signingKeyFromPem(rsa)).toThrow(/P-256/);
  });

  it("derives the kid from the public key (RFC 7638), the same every time", () => {
    const p = pem();
    expect(signingKeyFromPem(p).kid).toBe(signingKeyFromPem(p).kid);
    expect(signingKeyFromPem(p).kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("refresh tokens", () => {
  it("are 256-bit random and hashed deterministically", () => {
    const t = newRefreshToken();
    expect(Buffer.from(t, "base64url")).toHaveLength(32);
    expect(newRefreshToken()).not.toBe(t);
    expect(hashToken(t)).toBe(hashToken(t));
    expect(hashToken(t)).not.toContain(t);
  });
});

describe("deriveSecret", () => {
  it("is stable per key and purpose, and differs across purposes and keys", () => {
    const a = deriveSecret(key, "otp");
    expect(a).toHaveLength(32);
    expect(deriveSecret(key, "otp").equals(a)).toBe(true);
    expect(deriveSecret(key, "magic-link").equals(a)).toBe(false);
    expect(deriveSecret(signingKeyFromPem(pem()), "otp").equals(a)).toBe(false);
  });
});
