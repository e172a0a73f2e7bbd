import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { toAuthPayload } from "../../graphql/auth-payload";
import type { GatewayContext } from "../../graphql/context";
import { AuthPayload } from "../../graphql/types";
import type { RecoveryCodeService } from "./recovery-codes.service";
import { UseRecoveryCodeInput } from "./recovery-codes.types";

@Resolver()
export class RecoveryCodesResolver {
  constructor(private readonly recovery: RecoveryCodeService) {}

  @Mutation(() => AuthPayload, { description: "Completes an MFA login with a recovery code; each code works once." })
  async useRecoveryCode(@Arg("input") input: UseRecoveryCodeInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    return toAuthPayload(await this.recovery.signIn(input.mfaToken, input.code, ctx.client), ctx);
  }
}
