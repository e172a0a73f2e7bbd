import type { AuthMethod } from "../../core/auth-method";
import type { MethodDeps } from "../deps";
import { TotpResolver } from "./totp.resolver";

export const totpMethod: AuthMethod<MethodDeps> = {
  id: "totp",
  resolvers: [TotpResolver],
  create: () => [new TotpResolver()],
};
