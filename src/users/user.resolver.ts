import { Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import type { GatewayContext } from "../graphql/context";
import { OWNER_VIEW, type OwnedUser } from "../graphql/auth-payload";
import { User } from "../graphql/types";
import type { UserService } from "./user.service";

/** True when the caller is the user themself: private fields show only then. */
const isOwner = (user: OwnedUser, ctx: GatewayContext) => user[OWNER_VIEW] === true || ctx.principal?.userId === user.id;

@Resolver(() => User)
export class UserResolver {
  constructor(private readonly users: UserService) {}

  @Query(() => User, { nullable: true, description: "The signed-in user; null without a valid access token." })
  me(@Ctx() ctx: GatewayContext) {
    return ctx.memo("me", () => this.users.me(ctx.principal));
  }

  @FieldResolver(() => String, { nullable: true })
  email(@Root() user: OwnedUser, @Ctx() ctx: GatewayContext): string | null {
    return isOwner(user, ctx) ? user.email : null;
  }

  @FieldResolver(() => Boolean, { nullable: true, description: "Whether the account has a password (see changePassword). Visible to the user themself only." })
  hasPassword(@Root() user: OwnedUser, @Ctx() ctx: GatewayContext): boolean | null {
    return isOwner(user, ctx) ? user.passwordHash !== null : null;
  }

  @FieldResolver(() => String, { nullable: true })
  phone(@Root() user: OwnedUser, @Ctx() ctx: GatewayContext): string | null {
    return isOwner(user, ctx) ? user.phone : null;
  }
}
