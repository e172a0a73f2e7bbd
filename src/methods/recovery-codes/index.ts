import type { AuthMethod } from "../../core/auth-method";
import type { MethodDeps } from "../deps";
import { RecoveryCodesResolver } from "./recovery-codes.resolver";

export const recoveryCodesMethod: AuthMethod<MethodDeps> = {
  id: "recovery-codes",
  resolvers: [RecoveryCodesResolver],
  create: () => [new RecoveryCodesResolver()],
};
