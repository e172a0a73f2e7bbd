import { Arg, Mutation, Resolver } from "type-graphql";
import { AuthError } from "../../core/errors";
import { AuthPayload, RecoveryCodes } from "../../graphql/types";
import { TotpEnrollment, VerifyTotpInput } from "./totp.types";

const notYet = () => new AuthError("NOT_AVAILABLE", "Authenticator apps are not available on this gateway yet.");

/** The contract's fields, answering NOT_AVAILABLE until TOTP is built. */
@Resolver()
export class TotpResolver {
  @Mutation(() => TotpEnrollment, { description: "Starts TOTP enrollment for the signed-in user (authenticator apps)." })
  enrollTotp(): TotpEnrollment {
    throw notYet();
  }

  @Mutation(() => RecoveryCodes, { description: "Turns TOTP on with a first valid code; returns one-time recovery codes, shown once." })
  confirmTotp(@Arg("code") _code: string): RecoveryCodes {
    throw notYet();
  }

  @Mutation(() => AuthPayload, { description: "Completes an MFA login (mfaToken) or steps the current session up (no mfaToken) with a TOTP code." })
  verifyTotp(@Arg("input") _input: VerifyTotpInput): AuthPayload {
    throw notYet();
  }

  @Mutation(() => Boolean, { description: "Turns TOTP off; needs a current TOTP or recovery code." })
  disableTotp(@Arg("code") _code: string): boolean {
    throw notYet();
  }
}
