import type { AuthMethod } from "../../core/auth-method";
import type { MethodDeps } from "../deps";
import { OtpResolver } from "./otp.resolver";

export const otpMethod: AuthMethod<MethodDeps> = {
  id: "otp",
  resolvers: [OtpResolver],
  create: () => [new OtpResolver()],
};
