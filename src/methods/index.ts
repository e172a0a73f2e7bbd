import type { AuthMethod, SecondFactor, SettingsOf, SettingsSections } from "../core/auth-method";
import type { MethodDeps } from "./deps";
import { magicLinkMethod } from "./magic-link";
import { otpMethod } from "./otp";
import { passkeyMethod } from "./passkey";
import { passwordMethod } from "./password";
import { recoveryCodesMethod } from "./recovery-codes";
import { socialMethod } from "./social";
import { totpMethod } from "./totp";

/** The one list of sign-in methods, in the order MFA_REQUIRED offers their second factors. */
export const METHODS = [passwordMethod, totpMethod, recoveryCodesMethod, otpMethod, magicLinkMethod, passkeyMethod, socialMethod] as const;

/** Every second factor the methods declare: the MfaMethod enum's values, in METHODS' order. */
export const SECOND_FACTORS = METHODS.flatMap((m): readonly SecondFactor[] => m.secondFactors ?? []);

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type SettingsOfMethod<M> = M extends AuthMethod<MethodDeps, infer S extends SettingsSections> ? SettingsOf<S> : never;

/** Every method's settings sections, by key: the part of `Settings` the methods own. */
export type MethodSettings = UnionToIntersection<SettingsOfMethod<(typeof METHODS)[number]>>;

export { defineMethod, type MethodDeps } from "./deps";
