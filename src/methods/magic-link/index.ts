import type { AuthMethod } from "../../core/auth-method";
import type { MethodDeps } from "../deps";
import { MagicLinkResolver } from "./magic-link.resolver";

export const magicLinkMethod: AuthMethod<MethodDeps> = {
  id: "magic-link",
  resolvers: [MagicLinkResolver],
  create: () => [new MagicLinkResolver()],
};
