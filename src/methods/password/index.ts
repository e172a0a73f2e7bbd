import { defineMethod } from "../deps";
import { PasswordHasher } from "./password.hasher";
import { PasswordResolver } from "./password.resolver";
import { PasswordService } from "./password.service";
import { loginSettings } from "./password.settings";

export const passwordMethod = defineMethod({
  id: "password",
  settings: { login: loginSettings },
  resolvers: [PasswordResolver],
  signIns: { login: "password" },
  waysIn: (u) => (u.passwordHash !== null && u.email !== null ? ["password"] : []),
  create: (d, { login }) => {
    const service = new PasswordService({
      users: d.repositories.users,
      sessions: d.sessions,
      hasher: new PasswordHasher({ maxWaitMs: login.hashQueueWaitMs }),
      limiter: d.limiter,
      audit: d.audit,
      delivery: d.delivery,
      appName: d.settings.appName,
      limits: login.limits,
    });
    return [new PasswordResolver(service)];
  },
});
