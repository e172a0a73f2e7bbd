import type { AuthMethod, SettingsOf, SettingsSections } from "../core/auth-method";
import type { MethodDeps } from "./deps";
import { magicLinkMethod } from "./magic-link";
import { otpMethod } from "./otp";
import { passwordMethod } from "./password";
import { recoveryCodesMethod } from "./recovery-codes";
import { totpMethod } from "./totp";

/** The one list of sign-in methods. */
export const METHODS = [passwordMethod, otpMethod, totpMethod, recoveryCodesMethod, magicLinkMethod] as const;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type SettingsOfMethod<M> = M extends AuthMethod<MethodDeps, infer S extends SettingsSections> ? SettingsOf<S> : never;

/** Every method's settings sections, by key: the part of `Settings` the methods own. */
export type MethodSettings = UnionToIntersection<SettingsOfMethod<(typeof METHODS)[number]>>;

export { defineMethod, type MethodDeps } from "./deps";
