import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { AuthError } from "../core/errors";
import type { Principal } from "../core/auth";
import { CurrentUser } from "../graphql/auth";
import { deliverRefreshToken } from "../graphql/auth-payload";
import type { GatewayContext } from "../graphql/context";
import { AuthTokens, Session } from "../graphql/types";
import type { SessionService } from "./session.service";

@Resolver()
export class SessionResolver {
  constructor(private readonly service: SessionService) {}

  @Authorized()
  @Query(() => [Session], { description: "The signed-in user's active sessions, newest first." })
  sessions(@CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext) {
    return ctx.memo("sessions", () => this.service.list(principal));
  }

  @Mutation(() => AuthTokens, {
    description:
      "Rotates a refresh token. Reusing an already-rotated token revokes the whole session. Without the argument, the refresh cookie is used (X-Refresh-Token-Delivery: cookie).",
  })
  async refreshTokens(
    @Arg("refreshToken", () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Ctx() ctx: GatewayContext,
  ) {
    const token = refreshToken ?? ctx.refreshCookie?.read();
    if (!token) throw new AuthError("UNAUTHENTICATED", "No refresh token: pass refreshToken, or send the refresh cookie.", { reason: "NO_REFRESH_TOKEN" });
    try {
      // Into the cookie now, whatever the answer selects: the old token is spent, and a cookie
      // still holding it would be taken for reuse at the next refresh.
      return deliverRefreshToken(await this.service.refresh(token, ctx.client), ctx);
    } catch (e) {
      // A cookie that no longer works is dropped, so the browser stops sending it; one that
      // met an outage is kept (it still works once the gateway does).
      if (!refreshToken && cookieIsDead(e)) ctx.refreshCookie?.clear();
      throw e;
    }
  }

  @Mutation(() => Boolean, { description: "Ends the current session: the access token's, or else the refresh cookie's (and clears the cookie)." })
  async logout(@Ctx() ctx: GatewayContext) {
    const cookie = ctx.refreshCookie;
    try {
      const done = ctx.principal ? await this.service.logout(ctx.principal, ctx.client) : await this.logoutByCookie(cookie, ctx);
      cookie?.clear();
      return done;
    } catch (e) {
      // Kept through an outage: the session was not ended, and the cookie is how the browser tries again.
      if (cookieIsDead(e)) cookie?.clear();
      throw e;
    }
  }

  private logoutByCookie(cookie: GatewayContext["refreshCookie"], ctx: GatewayContext): Promise<boolean> {
    const token = cookie?.read();
    if (!token) throw new AuthError("UNAUTHENTICATED");
    return this.service.logoutWithRefreshToken(token, ctx.client);
  }

  @Authorized()
  @Mutation(() => Int, { description: "Ends every session of the signed-in user but this one (sign out everywhere else); how many it ended." })
  revokeOtherSessions(@CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext) {
    return this.service.revokeOthersByUser(principal, ctx.client);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Ends one of the signed-in user's sessions." })
  revokeSession(@Arg("id", () => ID) id: string, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext) {
    return this.service.revoke(principal, id, ctx.client);
  }
}

/** Every mutation that issues tokens goes through here: cookie delivery is decided in one place. */
@Resolver(() => AuthTokens)
export class AuthTokensResolver {
  @FieldResolver(() => String)
  refreshToken(@Root() tokens: AuthTokens, @Ctx() ctx: GatewayContext): string {
    return deliverRefreshToken(tokens, ctx).refreshToken;
  }
}

/** The refresh token was refused (spent, revoked, ended, unknown): its cookie is of no more use. */
const cookieIsDead = (e: unknown): boolean => e instanceof AuthError && e.code === "UNAUTHENTICATED";
