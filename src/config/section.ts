import { z } from "zod";

/**
 * A settings section: a group of settings declared once, each on one line (the variable it
 * is read from, its zod type with its default and range, and where it lands), with the
 * rules that concern them beside it. The spine declares one (config/settings.ts); each
 * sign-in method declares its own next to its code, and config/ composes them.
 */

/** The environment as given: empty variables already dropped. */
export type RawEnv = Readonly<Record<string, string | undefined>>;

/** One setting: the environment variable it is read from and its zod type. */
export interface Variable<T extends z.ZodType = z.ZodType> {
  readonly variable: string;
  readonly type: T;
}

export const variable = <T extends z.ZodType>(name: string, type: T): Variable<T> => ({ variable: name, type });

/** A section's layout: variables, nested groups, and constants kept as they are. */
export interface Shape {
  readonly [key: string]: Variable | Shape | number | string | boolean;
}

/** What a layout parses to. */
export type ValueOf<S> = {
  -readonly [K in keyof S]: S[K] extends Variable<infer T> ? z.output<T> : S[K] extends Shape ? ValueOf<S[K]> : Widened<S[K]>;
};
type Widened<T> = T extends number ? number : T extends string ? string : T extends boolean ? boolean : T;

export interface SettingsSection<T> {
  /** The environment variables it reads: two sections never claim the same one. */
  readonly variables: readonly string[];
  /** Reads the section's variables from the environment; each issue is named by its variable. */
  readonly schema: z.ZodType<T>;
  /** Problems with what was given, reported with the malformed values (e.g. "required in production"). */
  readonly given?: (env: RawEnv, production: boolean) => string[];
  /** Problems across several parsed values ("VARIABLE: why"), once every setting parsed. */
  check?(value: T): string[];
}

/** The output type of a section. */
export type SectionValue<S> = S extends SettingsSection<infer T> ? T : never;

const isVariable = (x: unknown): x is Variable => typeof x === "object" && x !== null && "variable" in x && "type" in x;

function variablesOf(shape: Shape, into: Variable[] = []): Variable[] {
  for (const entry of Object.values(shape)) {
    if (isVariable(entry)) into.push(entry);
    else if (typeof entry === "object") variablesOf(entry, into);
  }
  return into;
}

function valueOf(shape: Shape, parsed: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(shape).map(([key, entry]) => [key, isVariable(entry) ? parsed[entry.variable] : typeof entry === "object" ? valueOf(entry, parsed) : entry]),
  );
}

/**
 * Declares a section from its layout; `finish` derives what depends on several values
 * (a default taken from another setting, an object that exists only when all its parts do).
 */
export function settingsSection<S extends Shape, T = ValueOf<S>>(
  shape: S,
  rules: { finish?: (value: ValueOf<S>) => T; given?: SettingsSection<T>["given"]; check?: SettingsSection<T>["check"] } = {},
): SettingsSection<T> {
  const finish = rules.finish ?? ((v: ValueOf<S>) => v as unknown as T);
  const variables = variablesOf(shape);
  const object = z.object(Object.fromEntries(variables.map((v) => [v.variable, v.type])));
  return {
    variables: variables.map((v) => v.variable),
    schema: object.transform((parsed) => finish(valueOf(shape, parsed) as ValueOf<S>)),
    given: rules.given,
    check: rules.check,
  };
}

/** A section's values with nothing set: its defaults. */
export const defaultsOf = <T>(section: SettingsSection<T>): T => section.schema.parse({});

/** "VARIABLE: required in production, why" for each of `required` that was not given. */
export const missingInProduction = (env: RawEnv, required: Record<string, string>): string[] =>
  Object.entries(required)
    .filter(([name]) => env[name] === undefined)
    .map(([name, why]) => `${name}: required in production, ${why}`);
