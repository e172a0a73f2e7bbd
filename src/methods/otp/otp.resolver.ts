import { Arg, Mutation, Resolver } from "type-graphql";
import { AuthError } from "../../core/errors";
import { AuthPayload } from "../../graphql/types";
import { OtpChallenge, RequestOtpInput, VerifyOtpInput } from "./otp.types";

/** The contract's fields, answering NOT_AVAILABLE until one-time codes are built. */
@Resolver()
export class OtpResolver {
  @Mutation(() => OtpChallenge, { description: "Sends a one-time code by email or SMS. Same answer whether or not the account exists." })
  requestOtp(@Arg("input") _input: RequestOtpInput): OtpChallenge {
    throw new AuthError("NOT_AVAILABLE", "One-time codes are not available on this gateway yet.");
  }

  @Mutation(() => AuthPayload, { description: "Checks a code against its challenge; single use, limited attempts." })
  verifyOtp(@Arg("input") _input: VerifyOtpInput): AuthPayload {
    throw new AuthError("NOT_AVAILABLE", "One-time codes are not available on this gateway yet.");
  }
}
