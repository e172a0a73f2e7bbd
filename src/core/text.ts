import { timingSafeEqual } from "node:crypto";

/** For HTML built by hand (emails, the magic-link page): the five characters that matter. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Compares a stored secret (a hash, a MAC, a match code) with a presented one in constant
 * time. Lengths are no secret here: stored values have a fixed length.
 */
export function safeEqual(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
