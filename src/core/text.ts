import { timingSafeEqual } from "node:crypto";
import type { OutgoingMessage } from "./ports";

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

/** A plain notice email (no links, no code): one paragraph per line, as text and as HTML. */
export function noticeEmail(notice: { to: string; subject: string; lines: string[]; purpose: string; userId: string }): OutgoingMessage {
  const { lines, ...rest } = notice;
  return { channel: "email", ...rest, text: lines.join("\n\n"), html: lines.map((line) => `<p>${escapeHtml(line)}</p>`).join("") };
}
