import { randomBytes, timingSafeEqual } from "node:crypto";
import speakeasy from "speakeasy";

/**
 * The project's TOTP (RFC 6238) and HOTP (RFC 4226) arithmetic, on speakeasy.
 * Pure functions of (secret, time): no storage, no clock; replay and attempt limits live
 * in the service that calls `matchTotp`.
 */

export type TotpAlgorithm = "sha1" | "sha256" | "sha512";

export interface OtpOptions {
  /** Default "sha1": the only one every authenticator app reads. */
  algorithm?: TotpAlgorithm;
  /** Default 6; 6 to 8 (RFC 4226 §5.3). */
  digits?: number;
  /** Default 30 (RFC 6238 §5.2). */
  stepSeconds?: number;
}

/** What authenticator apps read: SHA1, 6 digits, 30 s. */
export const TOTP_DEFAULTS = { algorithm: "sha1", digits: 6, stepSeconds: 30 } as const satisfies Required<OtpOptions>;

/** RFC 4226 §4 asks for at least 128 bits and recommends 160: the HMAC-SHA1 block size. */
const SECRET_BYTES = 20;

/** speakeasy writes the counter with 32-bit shifts, so larger counters would be silently wrong. */
const MAX_COUNTER = 0x7fffffff;

export function generateTotpSecret(): { base32: string; raw: Buffer } {
  const raw = randomBytes(SECRET_BYTES);
  return { base32: base32Encode(raw), raw };
}

/**
 * `otpauth://totp/<Issuer>:<account>?secret=…` per the Key Uri Format every app reads.
 * Built by hand: speakeasy.otpauthURL leaves the label unencoded (a space or `+` breaks it).
 */
export function otpauthUrl({ secretBase32, issuer, account }: { secretBase32: string; issuer: string; account: string }): string {
  for (const [name, value] of [["issuer", issuer], ["account", account]] as const) {
    // The label is "<issuer>:<account>"; a colon inside either would split it in the wrong place.
    if (!value || value.includes(":")) throw new RangeError(`otpauthUrl: ${name} must be non-empty and contain no colon`);
  }
  if (!/^[A-Z2-7]+$/.test(secretBase32)) throw new RangeError("otpauthUrl: secret must be unpadded upper-case base32");
  const e = encodeURIComponent;
  const query = [
    `secret=${secretBase32}`,
    `issuer=${e(issuer)}`,
    `algorithm=${TOTP_DEFAULTS.algorithm.toUpperCase()}`,
    `digits=${TOTP_DEFAULTS.digits}`,
    `period=${TOTP_DEFAULTS.stepSeconds}`,
  ].join("&");
  return `otpauth://totp/${e(issuer)}:${e(account)}?${query}`;
}

/** The RFC 6238 time step (counter) that `timeMs` falls in. */
export function timeStep(timeMs: number, stepSeconds: number = TOTP_DEFAULTS.stepSeconds): number {
  if (!Number.isFinite(timeMs) || timeMs < 0) throw new RangeError("timeStep: time must be a non-negative number of milliseconds");
  if (!Number.isInteger(stepSeconds) || stepSeconds < 1) throw new RangeError("timeStep: stepSeconds must be a positive integer");
  return Math.floor(timeMs / (stepSeconds * 1000));
}

export function hotpCode(secret: Buffer, counter: number, opts: OtpOptions = {}): string {
  const { algorithm, digits } = resolveOptions(opts);
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) throw new RangeError(`hotpCode: counter must be an integer in 0..${MAX_COUNTER}`);
  // Hex because speakeasy's typings take the secret as a string (it would accept the Buffer).
  return speakeasy.hotp({ secret: secret.toString("hex"), encoding: "hex", counter, algorithm, digits });
}

export function totpCode(secret: Buffer, timeMs: number, opts: OtpOptions = {}): string {
  return hotpCode(secret, timeStep(timeMs, resolveOptions(opts).stepSeconds), opts);
}

/**
 * Which time step `code` belongs to, within ±`window` steps of `timeMs`, and its offset from
 * the current step (for drift tracking); null when none matches or the code is malformed.
 * Loops itself rather than use speakeasy.totp.verifyDelta, whose default window is 0 and whose
 * hotp window only looks ahead. Every offset is computed and compared in constant time; if a
 * code matches several steps, the one nearest the current step wins (0, -1, +1, ...).
 */
export function matchTotp(
  secret: Buffer,
  code: string,
  timeMs: number,
  window = 1,
  opts: OtpOptions = {},
): { step: number; offset: number } | null {
  const { digits, stepSeconds } = resolveOptions(opts);
  if (!Number.isInteger(window) || window < 0 || window > 10) throw new RangeError("matchTotp: window must be an integer in 0..10");
  if (typeof code !== "string" || code.length !== digits || !/^[0-9]+$/.test(code)) return null;
  const current = timeStep(timeMs, stepSeconds);
  const given = Buffer.from(code, "ascii");
  let match: { step: number; offset: number } | null = null;
  for (const offset of offsetsNearestFirst(window)) {
    const step = current + offset;
    if (step < 0) continue;
    const equal = timingSafeEqual(Buffer.from(hotpCode(secret, step, opts), "ascii"), given);
    if (equal && match === null) match = { step, offset };
  }
  return match;
}

function offsetsNearestFirst(window: number): number[] {
  const offsets = [0];
  for (let i = 1; i <= window; i++) offsets.push(-i, i);
  return offsets;
}

function resolveOptions(opts: OtpOptions): Required<OtpOptions> {
  const resolved = { ...TOTP_DEFAULTS, ...stripUndefined(opts) };
  if (!["sha1", "sha256", "sha512"].includes(resolved.algorithm)) throw new RangeError("OTP algorithm must be sha1, sha256 or sha512");
  if (!Number.isInteger(resolved.digits) || resolved.digits < 6 || resolved.digits > 8) throw new RangeError("OTP digits must be 6, 7 or 8");
  if (!Number.isInteger(resolved.stepSeconds) || resolved.stepSeconds < 1) throw new RangeError("OTP stepSeconds must be a positive integer");
  return resolved;
}

function stripUndefined(opts: OtpOptions): OtpOptions {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as OtpOptions;
}

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32, upper case, no padding (authenticator apps accept it without). */
function base32Encode(bytes: Buffer): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xfff; // at most 12 pending bits
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}
