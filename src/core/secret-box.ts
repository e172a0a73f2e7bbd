import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * AES-256-GCM for secrets at rest (TOTP seeds), with key rotation.
 *
 * Sealed form: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url, 96-bit IV, 128-bit tag).
 * The header and the caller's `aad` (the user id) are authenticated, so a sealed value
 * cannot be relabelled or moved to another user's row.
 *
 * Rotation: put a new key first (it seals), keep the old ones after it (they still open);
 * re-seal whatever `needsReseal` reports, on use or in a sweep; drop an old key only once
 * no stored value names it.
 */

export interface SecretBoxKey {
  id: string;
  key: Buffer;
}

export type SecretBoxErrorReason = "config" | "format" | "unknown-key" | "rejected";

/** Never carries key material or plaintext: only the reason and a fixed description. */
export class SecretBoxError extends Error {
  constructor(
    readonly reason: SecretBoxErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "SecretBoxError";
  }
}

const VERSION = "v1";
const ALGORITHM = "aes-256-gcm";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export class SecretBox {
  // Private fields, so a logged or serialised SecretBox shows no key.
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: SecretBoxKey;

  constructor(keys: ReadonlyArray<SecretBoxKey>) {
    checkKeys(keys);
    const copies = keys.map(({ id, key }) => ({ id, key: Buffer.from(key) }));
    this.#keys = new Map(copies.map(({ id, key }) => [id, key]));
    this.#current = copies[0];
  }

  /** The id of the key that seals. */
  get currentKeyId(): string {
    return this.#current.id;
  }

  seal(plaintext: Buffer | string, aad = ""): string {
    const { id: keyId, key } = this.#current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(keyId, aad));
    const data = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    return [VERSION, keyId, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === "string" ? part : part.toString("base64url"))).join(".");
  }

  /** The plaintext; SecretBoxError on a bad format, an unknown key id, tampering or the wrong `aad`. */
  open(sealed: string, aad = ""): Buffer {
    const { keyId, iv, ciphertext, tag } = parseSealed(sealed);
    const key = this.#keys.get(keyId);
    if (!key) throw new SecretBoxError("unknown-key", "Sealed secret names a key this box does not hold.");
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(keyId, aad));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new SecretBoxError("rejected", "Sealed secret failed authentication (tampered, or sealed for another owner).");
    }
  }

  /** True when `sealed` was sealed under a key other than the current one. */
  needsReseal(sealed: string): boolean {
    return parseSealed(sealed).keyId !== this.#current.id;
  }
}

/**
 * Keys from settings: `current` is one key, `previous` a comma-separated list of older ones.
 * Each is `<id>:<base64 of 32 bytes>`, or a bare base64 key that gets the id "k1".
 */
export function parseKeyList(current: string, previous?: string): SecretBoxKey[] {
  const entries = [current.trim(), ...(previous ?? "").split(",").map((e) => e.trim()).filter((e) => e !== "")];
  if (entries[0] === "") throw new SecretBoxError("config", "The current key is empty.");
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(":");
    const id = colon === -1 ? "k1" : entry.slice(0, colon);
    const encoded = colon === -1 ? entry : entry.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new SecretBoxError("config", `Key #${index + 1} has an invalid id (use 1-64 letters, digits, _ or -).`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new SecretBoxError("config", `Key '${id}' is not base64.`);
    return { id, key: Buffer.from(encoded.replace(/-/g, "+").replace(/_/g, "/"), "base64") };
  });
  checkKeys(keys);
  return keys;
}

/** A fresh `<id>:<base64>` entry, for generating a development key or the next rotation's key. */
export function generateKeyEntry(id = "k1"): string {
  if (!KEY_ID.test(id)) throw new SecretBoxError("config", "Invalid key id (use 1-64 letters, digits, _ or -).");
  return `${id}:${randomBytes(KEY_BYTES).toString("base64")}`;
}

function checkKeys(keys: ReadonlyArray<SecretBoxKey>): void {
  if (keys.length === 0) throw new SecretBoxError("config", "At least one key is needed.");
  const seen = new Set<string>();
  keys.forEach(({ id, key }, index) => {
    if (typeof id !== "string" || !KEY_ID.test(id)) throw new SecretBoxError("config", `Key #${index + 1} has an invalid id (use 1-64 letters, digits, _ or -).`);
    if (seen.has(id)) throw new SecretBoxError("config", `Key id '${id}' is used twice.`);
    seen.add(id);
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new SecretBoxError("config", `Key '${id}' must be ${KEY_BYTES} bytes, got ${Buffer.isBuffer(key) ? key.length : "no buffer"}.`);
    }
  });
}

/** Binds the header to the ciphertext; the key id holds no dot, so the join is unambiguous. */
function additionalData(keyId: string, aad: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}.${aad}`, "utf8");
}

function parseSealed(sealed: string): { keyId: string; iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const parts = typeof sealed === "string" ? sealed.split(".") : [];
  if (parts.length !== 5 || parts[0] !== VERSION || !KEY_ID.test(parts[1])) throw badFormat();
  const [iv, ciphertext, tag] = parts.slice(2).map(decodeBase64url);
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw badFormat();
  return { keyId: parts[1], iv, ciphertext, tag };
}

/** Strict: Node's decoder skips stray characters and ignores spare bits, so re-encode and compare. */
function decodeBase64url(text: string): Buffer {
  const bytes = Buffer.from(text, "base64url");
  if (!BASE64URL.test(text) || bytes.toString("base64url") !== text) throw badFormat();
  return bytes;
}

const badFormat = () => new SecretBoxError("format", "Sealed secret is not in the v1.<keyId>.<iv>.<ciphertext>.<tag> format.");
