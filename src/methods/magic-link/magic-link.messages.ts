import type { OutgoingMessage } from "../../core/ports";
import { escapeHtml } from "../../core/text";

/** The sign-in email: one link, no images or tracking. */
export function linkMessage(to: string, link: string, ttlSeconds: number, appName: string, userId: string | null): OutgoingMessage {
  const minutes = Math.max(1, Math.round(ttlSeconds / 60));
  return {
    channel: "email",
    to,
    userId,
    purpose: "magic_link",
    subject: `Sign in to ${appName}`,
    text: `Open this link to sign in to ${appName}:\n\n${link}\n\nIt works once and expires in ${minutes} minutes. If you did not ask for it, ignore this email.`,
    html:
      `<p>Open this link to sign in to ${escapeHtml(appName)}:</p>` +
      `<p><a href="${escapeHtml(link)}">Sign in</a></p>` +
      `<p>It works once and expires in ${minutes} minutes. If you did not ask for it, ignore this email.</p>`,
  };
}
