import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { signedInPayload, toAuthPayload } from "../../graphql/auth-payload";
import type { GatewayContext } from "../../graphql/context";
import { AuthPayload } from "../../graphql/types";
import type { OtpService } from "./otp.service";
import { OtpChallenge, OtpChannel, RequestOtpInput, VerifyOtpInput } from "./otp.types";

@Resolver()
export class OtpResolver {
  constructor(private readonly otp: OtpService) {}

  @Mutation(() => OtpChallenge, { description: "Sends a one-time code by email, SMS or voice call. Same answer whether or not the account exists." })
  async requestOtp(@Arg("input") input: RequestOtpInput, @Ctx() ctx: GatewayContext): Promise<OtpChallenge> {
    const issued = await this.otp.request(input, ctx.principal, ctx.client);
    return { ...issued, channel: OtpChannel[issued.channel] };
  }

  @Mutation(() => AuthPayload, { description: "Checks a code against its challenge; single use, limited attempts." })
  async verifyOtp(@Arg("input") input: VerifyOtpInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    const outcome = await this.otp.verify(input, ctx.principal, ctx.client);
    if (outcome.status !== "CONTACT_VERIFIED") return toAuthPayload(outcome, ctx);
    // The caller is already signed in: no new tokens, the updated user.
    return signedInPayload(outcome.user);
  }
}
