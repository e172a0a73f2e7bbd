import type { AuthMethod } from "../core/auth-method";
import type { MethodDeps } from "./deps";
import { magicLinkMethod } from "./magic-link";
import { otpMethod } from "./otp";
import { passwordMethod } from "./password";
import { recoveryCodesMethod } from "./recovery-codes";
import { totpMethod } from "./totp";

/** The one list of sign-in methods. */
export const METHODS: ReadonlyArray<AuthMethod<MethodDeps>> = [passwordMethod, otpMethod, totpMethod, recoveryCodesMethod, magicLinkMethod];

export type { MethodDeps } from "./deps";
