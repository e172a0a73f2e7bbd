import { SecretBox } from "../../core/secret-box";
import { defineMethod } from "../deps";
import { magicLinkPage } from "./magic-link.page";
import { MagicLinkResolver } from "./magic-link.resolver";
import { MagicLinkService } from "./magic-link.service";
import { magicLinkSettings } from "./magic-link.settings";
import { MagicLinkStore } from "./magic-link.store";

export const magicLinkMethod = defineMethod({
  id: "magic-link",
  settings: { magicLink: magicLinkSettings },
  resolvers: [MagicLinkResolver],
  signIns: { consumeMagicLink: "magic_link" },
  waysIn: (u) => (u.email !== null && u.emailVerified ? ["email"] : []),
  create: (d, { magicLink }) => {
    const { publicUrl, allowedOrigins, redirectUrls, appName } = d.settings;
    const service = new MagicLinkService({
      users: d.repositories.users,
      accounts: d.accounts,
      sessions: d.sessions,
      links: new MagicLinkStore(d.store, d.clock, { maxMatchAttempts: magicLink.maxMatchAttempts }),
      delivery: d.delivery,
      bus: d.bus,
      box: new SecretBox([{ id: "ml", key: d.secret("magic-link-auth") }]),
      limiter: d.limiter,
      audit: d.audit,
      clock: d.clock,
      settings: { ...magicLink, publicUrl, allowedOrigins, redirectUrls, appName },
      limits: magicLink.limits,
      log: d.log,
    });
    d.routes.add("/auth/magic-link", magicLinkPage(service, appName, allowedOrigins, new URL(publicUrl).origin));
    return [new MagicLinkResolver(service)];
  },
});
