import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** A public key as published at /.well-known/jwks.json. */
export interface PublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: "ES256";
  use: "sig";
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

/** The key that signs, and every public key that verifies (the JWKS). */
export interface KeyRing {
  signing: SigningKey;
  byKid(kid: string): KeyObject | undefined;
  jwks(): { keys: PublicJwk[] };
}

const GENERATED_KEY_FILE = "jwt-signing-key.pem";

/** RFC 7638 thumbprint: a kid that any holder of the public key can recompute. */
function thumbprint(x: string, y: string): string {
  const canonical = JSON.stringify({ crv: "P-256", kty: "EC", x, y });
  return createHash("sha256").update(canonical).digest("base64url");
}

export function signingKeyFromPem(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ec" || privateKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new Error("JWT_PRIVATE_KEY must be an EC P-256 (prime256v1) private key for ES256");
  }
  const publicKey = createPublicKey(privateKey);
  const { x, y } = publicKey.export({ format: "jwk" }) as { x: string; y: string };
  const kid = thumbprint(x, y);
  return { kid, privateKey, publicKey, jwk: { kty: "EC", crv: "P-256", x, y, kid, alg: "ES256", use: "sig" } };
}

/**
 * The configured key, or outside production one generated once into the data folder so
 * tokens survive restarts of a development gateway.
 */
export function loadSigningKey(opts: { pem?: string; dataDir: string }): { key: SigningKey; source: "settings" | "generated" | "data-dir" } {
  if (opts.pem) return { key: signingKeyFromPem(opts.pem), source: "settings" };
  const file = path.join(opts.dataDir, GENERATED_KEY_FILE);
  if (fs.existsSync(file)) return { key: signingKeyFromPem(fs.readFileSync(file, "utf8")), source: "data-dir" };
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  fs.mkdirSync(opts.dataDir, { recursive: true });
  // wx: two instances starting at once must not overwrite each other's key.
  try {
    fs.writeFileSync(file, pem, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return { key: signingKeyFromPem(fs.readFileSync(file, "utf8")), source: "data-dir" };
  }
  return { key: signingKeyFromPem(pem), source: "generated" };
}

/**
 * Public keys given as PEM blocks (several may follow each other in one setting): the next
 * key, published before it signs, or the previous one, still verifying its tokens.
 */
export function publicJwksFromPem(pems: string): PublicJwk[] {
  const blocks = pems.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  return blocks.map((pem) => {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new Error("JWT_ADDITIONAL_PUBLIC_KEYS must hold EC P-256 public keys");
    }
    const { x, y } = key.export({ format: "jwk" }) as { x: string; y: string };
    return { kty: "EC", crv: "P-256", x, y, kid: thumbprint(x, y), alg: "ES256", use: "sig" };
  });
}

/** Extra public keys verify tokens signed before a rotation (or by the next key, published early). */
export function createKeyRing(signing: SigningKey, extraPublicKeys: PublicJwk[] = []): KeyRing {
  const byKid = new Map<string, KeyObject>([[signing.kid, signing.publicKey]]);
  for (const jwk of extraPublicKeys) byKid.set(jwk.kid, createPublicKey({ key: { ...jwk }, format: "jwk" }));
  const keys = [signing.jwk, ...extraPublicKeys.filter((k) => k.kid !== signing.kid)];
  return { signing, byKid: (kid) => byKid.get(kid), jwks: () => ({ keys }) };
}

/**
 * A 256-bit secret for one purpose (e.g. the HMAC of one-time codes), derived with HKDF
 * from the signing key: every instance that shares JWT_PRIVATE_KEY derives the same one,
 * and no extra setting is needed. A new signing key retires outstanding codes with it.
 */
export function deriveSecret(key: SigningKey, purpose: string): Buffer {
  const material = key.privateKey.export({ format: "der", type: "pkcs8" });
  return Buffer.from(hkdfSync("sha256", material, "graphql-auth-gateway", purpose, 32));
}

/** A secret kept in a file of the data folder, made once (outside production only). */
export function loadOrCreateKeyFile(dataDir: string, name: string, make: () => string): string {
  const file = path.join(dataDir, name);
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, make(), { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  return fs.readFileSync(file, "utf8").trim();
}
