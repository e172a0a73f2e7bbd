import { Arg, Mutation, Resolver } from "type-graphql";
import { AuthError } from "../../core/errors";
import { AuthPayload } from "../../graphql/types";
import { UseRecoveryCodeInput } from "./recovery-codes.types";

/** The contract's field, answering NOT_AVAILABLE until recovery codes are built. */
@Resolver()
export class RecoveryCodesResolver {
  @Mutation(() => AuthPayload, { description: "Completes an MFA login with a recovery code; each code works once." })
  useRecoveryCode(@Arg("input") _input: UseRecoveryCodeInput): AuthPayload {
    throw new AuthError("NOT_AVAILABLE", "Recovery codes are not available on this gateway yet.");
  }
}
