import { numberedWays } from "../../core/auth-method";
import { defineMethod } from "../deps";
import { socialCallback } from "./social.callback";
import { SocialResolver } from "./social.resolver";
import { SocialService } from "./social.service";
import { socialSettings } from "./social.settings";
import { SocialStore } from "./social.store";
import { upstreamFor } from "./social.upstream";

export const socialMethod = defineMethod({
  id: "social",
  settings: { social: socialSettings },
  resolvers: [SocialResolver],
  signIns: { completeSocialSignIn: "social", signInWithIdToken: "social" },
  // Each identity is a way in of its own while its provider is configured here (one taken
  // out of the settings signs nobody in: counting it would let the last working way go).
  waysIn: async (u, r, { social }) => {
    const configured = new Set(social.providers.map((p) => p.id));
    return numberedWays("identity", (await r.identities.listByUser(u.id)).filter((i) => configured.has(i.provider)).length);
  },
  create: (d, { social }) => {
    const service = new SocialService({
      upstreams: new Map(social.providers.map((p) => [p.id, upstreamFor(p, social.timeoutMs)])),
      identities: d.repositories.identities,
      users: d.repositories.users,
      accounts: d.accounts,
      sessions: d.sessions,
      sessionRecords: d.repositories.sessions,
      store: new SocialStore(d.store),
      limiter: d.limiter,
      audit: d.audit,
      clock: d.clock,
      log: d.log,
      waysIn: d.waysIn,
      settings: { ...social, publicUrl: d.settings.publicUrl, allowedOrigins: d.settings.allowedOrigins, redirectUrls: d.settings.redirectUrls },
    });
    d.routes.add("/auth/social", socialCallback(service, d.settings.appName));
    return [new SocialResolver(service)];
  },
});
