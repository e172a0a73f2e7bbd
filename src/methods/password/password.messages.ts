import type { OutgoingMessage } from "../../core/ports";
import { escapeHtml } from "../../core/text";

/** Tells the owner their password changed: the only way they learn of a takeover in time. */
export function passwordChangedMessage(email: string, appName: string, userId: string, wasSet: boolean): OutgoingMessage {
  const what = wasSet ? "A password was set for" : "The password of";
  const lines = [
    `${what} your ${appName} account.`,
    "If this was you, there is nothing to do. Your other devices were signed out.",
    "If it was not you, sign in with a code sent to this address and set a new password: that signs everyone else out.",
  ];
  return {
    channel: "email",
    to: email,
    purpose: "password.changed",
    userId,
    subject: `Your ${appName} password was ${wasSet ? "set" : "changed"}`,
    text: lines.join("\n\n"),
    html: lines.map((line) => `<p>${escapeHtml(line)}</p>`).join(""),
  };
}
