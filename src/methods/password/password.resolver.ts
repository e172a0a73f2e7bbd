import type { Principal } from "../../core/auth";
import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { CurrentUser } from "../../graphql/auth";
import { toAuthPayload } from "../../graphql/auth-payload";
import type { GatewayContext } from "../../graphql/context";
import { AuthPayload } from "../../graphql/types";
import { ChangePasswordInput, LoginInput, SignUpInput } from "./password.inputs";
import type { PasswordService } from "./password.service";

@Resolver()
export class PasswordResolver {
  constructor(private readonly passwords: PasswordService) {}

  @Mutation(() => AuthPayload, { description: "Email + password account. Rejects weak/breached-pattern passwords with BAD_USER_INPUT." })
  async signUp(@Arg("input") input: SignUpInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    return toAuthPayload(await this.passwords.signUp(input, ctx.client), ctx);
  }

  @Mutation(() => AuthPayload, { description: "Password login. Returns MFA_REQUIRED with an mfaToken when the account has a second factor." })
  async login(@Arg("input") input: LoginInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    return toAuthPayload(await this.passwords.login(input, ctx.client), ctx);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      "Sets the signed-in user's password (first or new). Needs currentPassword, or a session signed in within the last 15 minutes (a forgotten password: sign in with an email code or link, then set a new one); with TOTP on, an aal2 session. Ends the user's other sessions.",
  })
  changePassword(@Arg("input") input: ChangePasswordInput, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<boolean> {
    return this.passwords.changePassword(principal, input, ctx.client);
  }
}
