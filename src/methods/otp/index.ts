import type { AuthMethod } from "../../core/auth-method";
import type { MethodDeps } from "../deps";
import { OtpChallengeStore } from "./otp-challenge.store";
import { OtpResolver } from "./otp.resolver";
import { SmsGuard } from "./sms-guard";
import { OtpService } from "./otp.service";

export const otpMethod: AuthMethod<MethodDeps> = {
  id: "otp",
  resolvers: [OtpResolver],
  signIns: { verifyOtp: "otp" },
  create: (d) => {
    const o = d.settings.otp;
    const service = new OtpService({
      users: d.users,
      accounts: d.accounts,
      sessions: d.sessions,
      challenges: new OtpChallengeStore(d.store, d.clock, d.secret("otp-challenge")),
      smsGuard: new SmsGuard(d.store, d.clock, d.audit, d.log, d.settings.sms.guard, d.metrics),
      delivery: d.delivery,
      limiter: d.limiter,
      audit: d.audit,
      clock: d.clock,
      settings: {
        length: o.length,
        ttlSeconds: o.ttlSeconds,
        maxAttempts: o.maxAttempts,
        signUp: o.signUp,
        resendCooldownSeconds: o.resendCooldownSeconds,
        smsEnabled: d.settings.sms.enabled,
        smsAllowedCountries: d.settings.sms.allowedCountries,
        appName: d.settings.appName,
      },
      limits: {
        perDestination: { max: o.maxPerDestinationPerHour, windowSeconds: 3600 },
        perIp: { max: o.maxRequestsPerIpPerHour, windowSeconds: 3600 },
        failedPerDestination: { max: o.maxFailedVerifications, windowSeconds: o.failedVerificationWindowSeconds },
      },
    });
    return [new OtpResolver(service)];
  },
};
