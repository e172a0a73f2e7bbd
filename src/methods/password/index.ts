import type { AuthMethod } from "../../core/auth-method";
import type { MethodDeps } from "../deps";
import { PasswordHasher } from "./password.hasher";
import { PasswordResolver } from "./password.resolver";
import { PasswordService } from "./password.service";

export const passwordMethod: AuthMethod<MethodDeps> = {
  id: "password",
  resolvers: [PasswordResolver],
  signIns: { login: "password" },
  create: (d) => {
    const { maxFailures, failureWindowSeconds } = d.settings.login;
    const service = new PasswordService({
      users: d.users,
      sessions: d.sessions,
      hasher: new PasswordHasher(),
      limiter: d.limiter,
      audit: d.audit,
      delivery: d.delivery,
      appName: d.settings.appName,
      limits: {
        perAccount: { max: maxFailures, windowSeconds: failureWindowSeconds },
        // An office or a carrier NAT shares one IP: allow several accounts' worth.
        perIp: { max: maxFailures * 10, windowSeconds: failureWindowSeconds },
        signUpPerIp: { max: 30, windowSeconds: 3600 },
      },
    });
    return [new PasswordResolver(service)];
  },
};
