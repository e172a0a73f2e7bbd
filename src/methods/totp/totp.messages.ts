import type { OutgoingMessage } from "../../core/ports";
import { noticeEmail } from "../../core/text";

/** Tells the owner the second factor is gone: a thief's first move after a takeover. */
export function totpDisabledMessage(email: string, appName: string, userId: string): OutgoingMessage {
  return noticeEmail({
    to: email,
    subject: `Two-step sign-in was turned off for your ${appName} account`,
    lines: [
      `The authenticator app of your ${appName} account was turned off: signing in now needs one step only.`,
      "If this was you, there is nothing to do.",
      "If it was not you, sign in with a code sent to this address, change your password and set up your authenticator app again.",
    ],
    purpose: "totp.disabled",
    userId,
  });
}

/** Tells the owner that new recovery codes replaced the old ones (whoever holds them can sign in). */
export function recoveryCodesRegeneratedMessage(email: string, appName: string, userId: string): OutgoingMessage {
  return noticeEmail({
    to: email,
    subject: `New recovery codes for your ${appName} account`,
    lines: [
      `New recovery codes were made for your ${appName} account; the old ones no longer work.`,
      "If this was you, keep the new ones somewhere safe.",
      "If it was not you, sign in, set up your authenticator app again and make new recovery codes: that retires these.",
    ],
    purpose: "recovery_codes.regenerated",
    userId,
  });
}

/** Tells the owner that another authenticator app replaced theirs (and new recovery codes the old ones). */
export function totpReplacedMessage(email: string, appName: string, userId: string): OutgoingMessage {
  return noticeEmail({
    to: email,
    subject: `Your ${appName} account has a new authenticator app`,
    lines: [
      `Another authenticator app was set up for your ${appName} account; the previous one and the old recovery codes no longer work.`,
      "If this was you, there is nothing to do.",
      "If it was not you, sign in with a code sent to this address, change your password and set up your authenticator app again.",
    ],
    purpose: "totp.replaced",
    userId,
  });
}
