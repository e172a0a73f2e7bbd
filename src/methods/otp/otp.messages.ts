import type { OutgoingMessage } from "../../core/ports";
import { escapeHtml, noticeEmail } from "../../core/text";
import { maskDestination, type Destination } from "./destination";

const PURPOSE_TEXT: Record<string, string> = {
  SIGN_IN: "sign in",
  MFA: "finish signing in",
  VERIFY_CONTACT: "confirm this address",
};

/** The message carrying a code: the code first and prominent, no links, no tracking. */
export function codeMessage(d: Destination, code: string, purpose: string, ttlSeconds: number, appName: string, userId: string | null): OutgoingMessage {
  const minutes = Math.max(1, Math.round(ttlSeconds / 60));
  const what = PURPOSE_TEXT[purpose] ?? "continue";
  const base = { to: d.address, purpose: `otp.${purpose.toLowerCase()}`, userId };
  if (d.channel === "SMS") {
    return { ...base, channel: "sms", text: `${code} is your ${appName} code to ${what}. It expires in ${minutes} min. Never share it.` };
  }
  if (d.channel === "VOICE") {
    // The call reads each digit on its own (infra/sms/voice.twiml.ts).
    return { ...base, channel: "voice", text: `Your ${appName} code is ${code}.` };
  }
  return {
    ...base,
    channel: "email",
    subject: `${code} is your ${appName} code`,
    text: `Your code to ${what}: ${code}\n\nIt expires in ${minutes} minutes. If you did not ask for it, ignore this email; nobody can sign in without the code.`,
    html:
      `<p>Your code to ${escapeHtml(what)}:</p>` +
      `<p style="font-size:32px;font-weight:bold;letter-spacing:6px;font-family:monospace">${escapeHtml(code)}</p>` +
      `<p>It expires in ${minutes} minutes. If you did not ask for it, ignore this email; nobody can sign in without the code.</p>`,
  };
}

/** To the address proven before: a new email or phone was put on the account. */
export function contactChangedMessage(to: string, added: Destination, appName: string, userId: string): OutgoingMessage {
  const what = added.channel === "EMAIL" ? "email address" : "phone number";
  return noticeEmail({
    to,
    subject: `Your ${appName} ${what} was changed`,
    lines: [
      `Your ${appName} account now has the ${what} ${maskDestination(added)}.`,
      "If this was you, there is nothing to do.",
      "If it was not you, sign in now, put your own address back, change your password and sign out all other devices.",
    ],
    purpose: "contact.changed",
    userId,
  });
}
