import { defineMethod } from "../deps";
import { OtpChallengeStore } from "./otp-challenge.store";
import { OtpResolver } from "./otp.resolver";
import { otpSettings, smsSettings } from "./otp.settings";
import { SmsGuard } from "./sms-guard";
import { OtpService } from "./otp.service";

export const otpMethod = defineMethod({
  id: "otp",
  settings: { otp: otpSettings, sms: smsSettings },
  resolvers: [OtpResolver],
  signIns: { verifyOtp: "otp" },
  // A verified address serves as a second factor, but does not make one required.
  secondFactors: [
    { mfaMethod: "EMAIL_OTP", authenticator: "email", offeredTo: (u) => Boolean(u.email && u.emailVerified) },
    { mfaMethod: "SMS_OTP", authenticator: "phone", offeredTo: (u) => Boolean(u.phone && u.phoneVerified), enabledBy: (s) => s.sms.enabled },
  ],
  // A one-time code signs in at a proven address (the same mailbox a magic link reaches).
  waysIn: (u, _r, { sms }) => [...(u.email && u.emailVerified ? ["email"] : []), ...(u.phone && u.phoneVerified && sms.enabled ? ["phone"] : [])],
  create: (d, { otp, sms }) => {
    const service = new OtpService({
      users: d.repositories.users,
      accounts: d.accounts,
      sessions: d.sessions,
      challenges: new OtpChallengeStore(d.store, d.clock, d.secret("otp-challenge")),
      smsGuard: new SmsGuard(d.store, d.clock, d.audit, d.log, sms.guard, d.metrics),
      delivery: d.delivery,
      limiter: d.limiter,
      audit: d.audit,
      clock: d.clock,
      settings: { ...otp, sms, appName: d.settings.appName },
      limits: otp.limits,
    });
    return [new OtpResolver(service)];
  },
});
