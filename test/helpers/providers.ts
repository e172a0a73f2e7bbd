import type { TestSmtpServer } from "./smtp-server";
import type { TwilioEndpoint } from "./twilio-endpoint";

/** The settings that send email through `smtp` and SMS/calls through `twilio` (real protocols, local servers). */
export function providerSettings(smtp: TestSmtpServer, twilio: TwilioEndpoint, opts: { mailFrom?: string; smsFrom?: string } = {}): Record<string, string> {
  return {
    SMTP_URL: smtp.url,
    MAIL_FROM: opts.mailFrom ?? "codes@example.test",
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: opts.smsFrom ?? "+15005550006",
    TWILIO_API_BASE_URL: twilio.baseUrl,
  };
}
