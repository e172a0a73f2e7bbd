import { createParameterDecorator, type AuthChecker } from "type-graphql";
import { AuthError } from "../core/errors";
import type { Principal } from "../core/auth";
import type { GatewayContext } from "./context";

/** `@Authorized()` fields need a valid access token of a live session. */
export const authChecker: AuthChecker<GatewayContext> = ({ context }) => {
  if (!context.principal) throw new AuthError("UNAUTHENTICATED");
  return true;
};

/** The signed-in caller; use on `@Authorized()` fields only. */
export function CurrentUser() {
  return createParameterDecorator<GatewayContext>(({ context }): Principal => {
    if (!context.principal) throw new AuthError("UNAUTHENTICATED");
    return context.principal;
  });
}
