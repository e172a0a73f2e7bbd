import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { CurrentUser } from "../graphql/auth";
import type { GatewayContext } from "../graphql/context";
import { AuthTokens, Session } from "../graphql/types";
import type { Principal, SessionService } from "./session.service";

@Resolver()
export class SessionResolver {
  constructor(private readonly service: SessionService) {}

  @Authorized()
  @Query(() => [Session], { description: "The signed-in user's active sessions, newest first." })
  sessions(@CurrentUser() principal: Principal) {
    return this.service.list(principal);
  }

  @Mutation(() => AuthTokens, { description: "Rotates a refresh token. Reusing an already-rotated token revokes the whole session." })
  refreshTokens(@Arg("refreshToken") refreshToken: string, @Ctx() ctx: GatewayContext) {
    return this.service.refresh(refreshToken, ctx.client);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Ends the current session." })
  logout(@CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext) {
    return this.service.logout(principal, ctx.client);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Ends one of the signed-in user's sessions." })
  revokeSession(@Arg("id", () => ID) id: string, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext) {
    return this.service.revoke(principal, id, ctx.client);
  }
}
