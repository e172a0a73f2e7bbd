import type { AuthMethod } from "../../core/auth-method";
import { SecretBox } from "../../core/secret-box";
import type { MethodDeps } from "../deps";
import { magicLinkPage } from "./magic-link.page";
import { MagicLinkResolver } from "./magic-link.resolver";
import { MagicLinkService } from "./magic-link.service";
import { MagicLinkStore } from "./magic-link.store";

export const magicLinkMethod: AuthMethod<MethodDeps> = {
  id: "magic-link",
  resolvers: [MagicLinkResolver],
  signIns: { consumeMagicLink: "magic_link" },
  create: (d) => {
    const { settings } = d;
    const service = new MagicLinkService({
      users: d.users,
      accounts: d.accounts,
      links: new MagicLinkStore(d.store, d.clock, { maxMatchAttempts: settings.otp.maxAttempts }),
      delivery: d.delivery,
      bus: d.bus,
      box: new SecretBox([{ id: "ml", key: d.secret("magic-link-auth") }]),
      limiter: d.limiter,
      audit: d.audit,
      clock: d.clock,
      settings: {
        publicUrl: settings.publicUrl,
        allowedOrigins: settings.allowedOrigins,
        ttlSeconds: settings.magicLink.ttlSeconds,
        signUp: settings.magicLink.signUp,
        resendCooldownSeconds: settings.otp.resendCooldownSeconds,
        appName: settings.appName,
      },
      // The same request limits as one-time codes.
      limits: {
        perEmail: { max: settings.otp.maxPerDestinationPerHour, windowSeconds: 3600 },
        perIp: { max: settings.otp.maxRequestsPerIpPerHour, windowSeconds: 3600 },
      },
    });
    d.routes.add("/auth/magic-link", magicLinkPage(service, settings.appName, settings.allowedOrigins, new URL(settings.publicUrl).origin));
    return [new MagicLinkResolver(service)];
  },
};
