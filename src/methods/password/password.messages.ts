import type { OutgoingMessage } from "../../core/ports";
import { noticeEmail } from "../../core/text";

/** Tells the owner their password changed: the only way they learn of a takeover in time. */
export function passwordChangedMessage(email: string, appName: string, userId: string, wasSet: boolean): OutgoingMessage {
  return noticeEmail({
    to: email,
    subject: `Your ${appName} password was ${wasSet ? "set" : "changed"}`,
    lines: [
      `${wasSet ? "A password was set for" : "The password of"} your ${appName} account.`,
      "If this was you, there is nothing to do. Your other devices were signed out.",
      "If it was not you, sign in with a code sent to this address and set a new password: that signs everyone else out.",
    ],
    purpose: "password.changed",
    userId,
  });
}
