import type { SectionValue, SettingsSection } from "../config/section";
import type { UserRecord } from "./ports";

/** Every sign-in method the gateway knows; one folder each under src/methods/. */
export type MethodId = "password" | "otp" | "totp" | "recovery-codes" | "magic-link";

/** Second factors an MFA_REQUIRED answer may offer (contract enum MfaMethod). */
export type MfaMethod = "TOTP" | "EMAIL_OTP" | "SMS_OTP" | "RECOVERY_CODE";

/** A method's settings sections by the key they are read under (`settings.otp`). */
export type SettingsSections = Readonly<Record<string, SettingsSection<unknown>>>;
export type SettingsOf<S extends SettingsSections> = { [K in keyof S]: SectionValue<S[K]> };

/**
 * A sign-in method as the spine sees it: its settings, its GraphQL resolvers and the
 * objects they are built from. Adding a method is adding a folder and one line in
 * methods/index.ts.
 */
export interface AuthMethod<Deps, S extends SettingsSections = SettingsSections> {
  readonly id: MethodId;
  /** Its settings, declared once beside it; config/ composes them with the spine's. */
  readonly settings?: S;
  /** type-graphql resolver classes: all the schema needs to be printed. */
  readonly resolvers: Function[];
  /**
   * Its Mutation fields that sign someone in or finish a second factor, by the label
   * they are counted under (metric `auth_gateway_sign_in_attempts_total{method}`).
   */
  readonly signIns?: Readonly<Record<string, string>>;
  /** Builds the resolver instances (and their services) from what the spine provides and its own settings. */
  create(deps: Deps, settings: SettingsOf<S>): object[];
}

/**
 * What a factor proved possession of. A code and a link sent to one mailbox prove the same
 * thing, and SMS and voice reach the same phone, so amr (where email code, link, TOTP and
 * recovery codes are all "otp", RFC 8176) cannot tell whether two factors differ: this can.
 */
export type Authenticator = "password" | "email" | "phone" | "totp" | "recovery_code";

/** A factor someone just passed: its RFC 8176 amr value and the authenticator it proved. */
export interface Factor {
  amr: string;
  authenticator: Authenticator;
}

const AUTHENTICATOR_OF: Record<MfaMethod, Authenticator> = { TOTP: "totp", RECOVERY_CODE: "recovery_code", EMAIL_OTP: "email", SMS_OTP: "phone" };

/**
 * Which second factors a user can finish a sign-in with, after first factors that proved
 * `used`. MFA is required once an authenticator app is on (TOTP); verified contacts then
 * also serve as second factors, but never the one the first factor already proved.
 */
export function secondFactorsFor(user: UserRecord, used: readonly Authenticator[]): MfaMethod[] {
  if (!user.totpEnabled) return [];
  const factors: MfaMethod[] = ["TOTP", "RECOVERY_CODE"];
  if (user.email && user.emailVerified) factors.push("EMAIL_OTP");
  if (user.phone && user.phoneVerified) factors.push("SMS_OTP");
  return factors.filter((f) => !used.includes(AUTHENTICATOR_OF[f]));
}
