import { dictionary } from "@zxcvbn-ts/language-common";
import { badInput } from "../../core/errors";

/**
 * NIST SP 800-63B §5.1.1.2: length, a blocklist of common passwords, nothing else.
 * No composition rules (they make passwords worse, not better).
 */
export const MIN_LENGTH = 8;
export const MAX_LENGTH = 256;

// ~18k commonly used passwords of at least MIN_LENGTH characters (zxcvbn-ts's list).
const COMMON = new Set(dictionary["passwords-common"].filter((p) => p.length >= MIN_LENGTH));

/** Unicode NFKC, as 800-63B asks, so the same password typed differently hashes the same. */
export const normalizePassword = (password: string): string => password.normalize("NFKC");

/** Throws BAD_USER_INPUT (on `field`, the input's name for it) with the rule that failed. */
export function checkNewPassword(password: string, email: string, field = "password"): void {
  const length = [...password].length; // code points, not UTF-16 units
  if (length < MIN_LENGTH) throw badInput(field, `Use at least ${MIN_LENGTH} characters.`);
  if (length > MAX_LENGTH) throw badInput(field, `Use at most ${MAX_LENGTH} characters.`);
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) throw badInput(field, "This password is too common. Choose another one.");
  if (lower === email.toLowerCase() || lower === email.split("@")[0].toLowerCase()) {
    throw badInput(field, "The password must not be your email address.");
  }
}
