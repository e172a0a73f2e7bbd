import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const ALGORITHM = "aes-256-gcm";
const KEY_BYTES = 32;
/** 96 bits, the IV length GCM is designed for; random per seal, never reused with a key. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Names the format, so a later one (another key, another cipher) can be told apart. */
const VERSION = "v1";

/** A payload that cannot be opened. Its message never holds any of the payload. */
export class SealedPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealedPayloadError";
  }
}

/**
 * Encrypts and authenticates `obj` (as JSON) with AES-256-GCM under a 32-byte key:
 * `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
export function seal(key: Buffer, obj: object): string {
  assertPayloadKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(obj), "utf8"), cipher.final()]);
  return [VERSION, ...[iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString("base64url"))].join(".");
}

/**
 * The object `seal` was given, once the tag proves it was sealed under `key` and not
 * changed since; otherwise a `SealedPayloadError`.
 */
export function open<T>(key: Buffer, sealed: string): T {
  assertPayloadKey(key);
  const parts = typeof sealed === "string" ? sealed.split(".") : [];
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SealedPayloadError("not a sealed payload");
  const [iv, ciphertext, tag] = parts.slice(1).map((part) => Buffer.from(part, "base64url"));
  // Before deciphering, so a wrong-sized IV or tag (a truncated tag is easier to forge) is refused like any other bad payload.
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SealedPayloadError("not a sealed payload");
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new SealedPayloadError("the sealed payload failed authentication (changed, or sealed under another key)");
  }
  try {
    return JSON.parse(plaintext.toString("utf8")) as T;
  } catch {
    // JSON.parse's own message would quote the plaintext.
    throw new SealedPayloadError("the sealed payload is not JSON");
  }
}

/** Throws unless `key` is a 32-byte Buffer, so a queue can refuse a bad key when it starts. */
export function assertPayloadKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new RangeError(`the payload key must be ${KEY_BYTES} bytes`);
}
