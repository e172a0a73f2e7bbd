import type { OutgoingMessage } from "../../core/ports";
import { noticeEmail } from "../../core/text";

/** Tells the owner a passkey now signs in to the account: a thief's way to stay in after a takeover. */
export function passkeyAddedMessage(email: string, appName: string, userId: string, passkeyName: string): OutgoingMessage {
  return noticeEmail({
    to: email,
    subject: `A passkey was added to your ${appName} account`,
    lines: [
      `A passkey named "${passkeyName}" was added to your ${appName} account: it can now sign in without a password.`,
      "If this was you, there is nothing to do.",
      "If it was not you, sign in, remove that passkey on your account page and change your password.",
    ],
    purpose: "passkey.added",
    userId,
  });
}

/** Tells the owner a passkey no longer signs in to the account. */
export function passkeyRemovedMessage(email: string, appName: string, userId: string, passkeyName: string): OutgoingMessage {
  return noticeEmail({
    to: email,
    subject: `A passkey was removed from your ${appName} account`,
    lines: [
      `The passkey named "${passkeyName}" was removed from your ${appName} account and can no longer sign in.`,
      "If this was you, there is nothing to do (you may also delete it from your device or password manager).",
      "If it was not you, sign in with a code sent to this address and change your password.",
    ],
    purpose: "passkey.removed",
    userId,
  });
}
