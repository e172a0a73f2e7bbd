import type { SectionValue, SettingsSection } from "../config/section";
import type { Repositories, UserRecord } from "./ports";

/** A second factor's name in the contract's MfaMethod enum (TOTP, EMAIL_OTP…): the methods declare them. */
export type MfaMethod = string;

/** A method's settings sections by the key they are read under (`settings.otp`). */
export type SettingsSections = Readonly<Record<string, SettingsSection<unknown>>>;
export type SettingsOf<S extends SettingsSections> = { [K in keyof S]: SectionValue<S[K]> };

/**
 * A sign-in method as the spine sees it: its settings, its GraphQL resolvers and the
 * objects they are built from. Adding a method is adding a folder and one line in
 * methods/index.ts (and, for a table, its model, migration and Prisma repo: README, Layout).
 */
export interface AuthMethod<Deps, S extends SettingsSections = SettingsSections> {
  /** Its name (the folder's), for messages. */
  readonly id: string;
  /** Its settings, declared once beside it; config/ composes them with the spine's. */
  readonly settings?: S;
  /** type-graphql resolver classes: all the schema needs to be printed. */
  readonly resolvers: Function[];
  /**
   * Its Mutation fields that sign someone in or finish a second factor, by the label
   * they are counted under (metric `auth_gateway_sign_in_attempts_total{method}`).
   */
  readonly signIns?: Readonly<Record<string, string>>;
  /** The second factors it can finish an MFA_REQUIRED sign-in with (values of the MfaMethod enum). */
  readonly secondFactors?: readonly SecondFactor<SettingsOf<S>>[];
  /**
   * The ways it offers to sign in to `user` now, each by a name that two methods reaching
   * the same thing share (a code and a link to one proven mailbox are both "email"), so
   * that nothing removes the last one (waysInFor). A method its settings turn off offers none.
   */
  waysIn?(user: UserRecord, repositories: Repositories, settings: SettingsOf<S>): readonly string[] | Promise<readonly string[]>;
  /** Builds the resolver instances (and their services) from what the spine provides and its own settings. */
  create(deps: Deps, settings: SettingsOf<S>): object[];
}

/**
 * What a factor proved possession of. A code and a link sent to one mailbox prove the same
 * thing, and SMS and voice reach the same phone, so amr (where email code, link, TOTP and
 * recovery codes are all "otp", RFC 8176) cannot tell whether two factors differ: this can.
 * Each method names its own ("password", "email", "phone", "totp", "recovery_code",
 * "passkey", "identity:<provider>").
 */
export type Authenticator = string;

/** A factor someone just passed: its RFC 8176 amr value and the authenticator it proved. */
export interface Factor {
  amr: string;
  authenticator: Authenticator;
  /** Others the same proof reaches: a provider's account that holds the account's mailbox also proves "email". */
  alsoProves?: readonly Authenticator[];
}

/** A second factor as a method declares it; `Own` is its method's settings. */
export interface SecondFactor<Own = any> {
  /** Its value in the contract's MfaMethod enum. */
  readonly mfaMethod: MfaMethod;
  /** What it proves: never offered after a first factor that proved the same. */
  readonly authenticator: Authenticator;
  /** The account has it on, so every sign-in needs a second factor (an authenticator app does; a verified address does not). */
  requiredBy?(user: UserRecord, repositories: Repositories): boolean | Promise<boolean>;
  /** The account can finish a sign-in with it. */
  offeredTo(user: UserRecord, repositories: Repositories): boolean | Promise<boolean>;
  /** Whether the method's settings leave it on (SMS_ENABLED, PASSKEY_ENABLED); absent: always on. */
  enabledBy?(settings: Own): boolean;
}

/** The second factors this deployment's settings leave on (`settings` holds every method's sections). */
export const enabledSecondFactors = (factors: readonly SecondFactor[], settings: object): SecondFactor[] =>
  factors.filter((f) => f.enabledBy?.(settings) ?? true);

/** The second factors a user can finish a sign-in with, after first factors that proved `used`. */
export type SecondFactorsFor = (user: UserRecord, used: readonly Authenticator[]) => Promise<MfaMethod[]>;

/**
 * MFA is required once one of the account's factors requires it (TOTP); every factor the
 * account can use then serves, in the methods' order, but never the one the first factor
 * already proved.
 */
export function secondFactorsFor(factors: readonly SecondFactor[], repositories: Repositories): SecondFactorsFor {
  return async (user, used) => {
    const required = await Promise.all(factors.map((f) => f.requiredBy?.(user, repositories) ?? false));
    if (!required.includes(true)) return [];
    const offered = await Promise.all(factors.map((f) => !used.includes(f.authenticator) && f.offeredTo(user, repositories)));
    return factors.filter((_, i) => offered[i]).map((f) => f.mfaMethod);
  };
}

/** How many distinct ways in an account has, across every method (unlinkIdentity keeps one). */
export type WaysIn = (user: UserRecord) => Promise<number>;

/** `count` distinct ways of one kind, for waysIn: `kind:0` … `kind:count-1`. */
export const numberedWays = (kind: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${kind}:${i}`);

/**
 * How often a removal of a way in counts them again when another removal landed between its
 * count and its write (the user's waysInVersion moved): each round, one racing removal lands.
 */
export const WAY_REMOVAL_ATTEMPTS = 8;

/** `settings` holds every method's sections (as for enabledSecondFactors). */
export function waysInFor(methods: ReadonlyArray<Pick<AuthMethod<unknown, any>, "waysIn">>, repositories: Repositories, settings: object): WaysIn {
  return async (user) => {
    const ways = await Promise.all(methods.map((m) => m.waysIn?.(user, repositories, settings as SettingsOf<any>) ?? []));
    return new Set(ways.flat()).size;
  };
}
