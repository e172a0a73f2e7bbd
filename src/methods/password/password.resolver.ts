import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { toAuthPayload } from "../../graphql/auth-payload";
import type { GatewayContext } from "../../graphql/context";
import { AuthPayload } from "../../graphql/types";
import { LoginInput, SignUpInput } from "./password.inputs";
import type { PasswordService } from "./password.service";

@Resolver()
export class PasswordResolver {
  constructor(private readonly passwords: PasswordService) {}

  @Mutation(() => AuthPayload, { description: "Email + password account. Rejects weak/breached-pattern passwords with BAD_USER_INPUT." })
  async signUp(@Arg("input") input: SignUpInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    return toAuthPayload(await this.passwords.signUp(input, ctx.client));
  }

  @Mutation(() => AuthPayload, { description: "Password login. Returns MFA_REQUIRED with an mfaToken when the account has a second factor." })
  async login(@Arg("input") input: LoginInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    return toAuthPayload(await this.passwords.login(input, ctx.client));
  }
}
