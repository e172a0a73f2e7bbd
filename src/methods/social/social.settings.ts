import { createPrivateKey } from "node:crypto";
import { z } from "zod";
import { commaList, flag, int } from "../../config/fields";
import type { RawEnv, SettingsSection } from "../../config/section";
import type { Limit } from "../../core/rate-limit";

/**
 * Social and OpenID sign-in (GOOGLE_*, APPLE_*, MICROSOFT_*, GITHUB_*, OIDC_*, SOCIAL_*).
 * Each provider is on when its settings are given, all or none. The generic providers'
 * variables are named after their ids (OIDC_ACME_ISSUER for `acme`), so this section is
 * written by hand rather than with settingsSection, and still names every bad setting.
 */

interface ProviderBase {
  /** In URLs (/auth/social/<id>/callback) and the API (IdentityProvider.id). */
  id: string;
  /** The button's text: "Continue with <name>". */
  name: string;
  clientId: string;
  scopes: string[];
  /** A verified email from it may join the account that proved the same address. */
  trustEmail: boolean;
  /** http:// endpoints allowed (outside production only). */
  insecure: boolean;
}

/** Sign in with Apple's client secret: an ES256 JWT the gateway signs with this key. */
export interface AppleKey {
  teamId: string;
  keyId: string;
  privateKeyPem: string;
}

export interface OidcProviderConfig extends ProviderBase {
  kind: "oidc";
  /** Discovered at `${issuer}/.well-known/openid-configuration`; Microsoft's may hold `{tenantid}`. */
  issuer: string;
  /** Null for Apple, whose secret is signed with `apple`. */
  clientSecret: string | null;
  apple: AppleKey | null;
  /** Other client ids whose id_tokens signInWithIdToken takes (Android, iOS apps). */
  audiences: string[];
  /** Native apps may sign in with an id_token of this provider (not Microsoft's: MSAL apps use the browser flow). */
  idTokenSignIn: boolean;
}

export interface GithubProviderConfig extends ProviderBase {
  kind: "github";
  clientSecret: string;
  /** github.com, or a GitHub Enterprise Server's URL. */
  webUrl: string;
  apiUrl: string;
}

export type ProviderConfig = OidcProviderConfig | GithubProviderConfig;

export interface SocialSettings {
  /** The enabled providers: presets first (Google, Apple, Microsoft, GitHub), then OIDC_PROVIDERS in order. */
  providers: ProviderConfig[];
  /** A first sign-in with no account to join creates one. */
  signUp: boolean;
  /** How long a started sign-in waits for the provider's callback. */
  stateTtlSeconds: number;
  /** Discovery, token, JWKS and GitHub API requests give up after this long. */
  timeoutMs: number;
  limits: { startPerIp: Limit; completePerIp: Limit; idTokenPerIp: Limit };
}

export const PRESET_IDS = ["google", "apple", "microsoft", "github"] as const;
const GENERIC_ID = /^[a-z0-9-]{1,32}$/;
const GENERIC_FIELDS = ["ISSUER", "CLIENT_ID", "CLIENT_SECRET", "NAME", "SCOPES", "TRUST_EMAIL"] as const;

/** OIDC_ACME_ for `acme`, OIDC_MY_IDP_ for `my-idp`. */
export const genericPrefix = (id: string) => `OIDC_${id.toUpperCase().replace(/-/g, "_")}_`;

const PRESET_VARIABLES = {
  google: ["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_SCOPES", "GOOGLE_AUDIENCES", "GOOGLE_TRUST_EMAIL"],
  apple: ["APPLE_CLIENT_ID", "APPLE_TEAM_ID", "APPLE_KEY_ID", "APPLE_PRIVATE_KEY", "APPLE_SCOPES", "APPLE_AUDIENCES", "APPLE_TRUST_EMAIL"],
  microsoft: ["MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET", "MICROSOFT_TENANT", "MICROSOFT_SCOPES", "MICROSOFT_TRUST_EMAIL"],
  github: ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "GITHUB_SCOPES", "GITHUB_URL", "GITHUB_API_URL", "GITHUB_TRUST_EMAIL"],
} as const;
const SOCIAL_VARIABLES = [
  "OIDC_PROVIDERS",
  "SOCIAL_SIGNUP",
  "SOCIAL_STATE_TTL_SECONDS",
  "SOCIAL_PROVIDER_TIMEOUT_MS",
  "SOCIAL_MAX_STARTS_PER_IP_PER_HOUR",
  "SOCIAL_MAX_SIGN_INS_PER_IP_PER_HOUR",
] as const;

type Issue = (variable: string, message: string) => void;

/** Reads one variable with a zod type, reporting a bad value under its name. */
function read<T extends z.ZodType>(env: RawEnv, name: string, type: T, issue: Issue): z.output<T> | undefined {
  const result = type.safeParse(env[name]);
  if (result.success) return result.data;
  for (const i of result.error.issues) issue(name, i.message);
  return undefined;
}

const scopeList = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? fallback).split(/[\s,]+/).filter(Boolean));

/** An https:// URL (http:// outside production, for local providers); no query or fragment. */
function endpointUrl(env: RawEnv, name: string, production: boolean, issue: Issue): { url: string; insecure: boolean } | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  if (!URL.canParse(raw)) return void issue(name, "is not a URL: it must start with https://");
  const u = new URL(raw);
  if (u.protocol !== "https:" && !(u.protocol === "http:" && !production)) {
    return void issue(name, production ? "must start with https:// in production" : "must start with https:// (or http:// for a local provider)");
  }
  if (u.search || u.hash || u.username || u.password) return void issue(name, "must have no query, fragment or user");
  return { url: raw.replace(/\/+$/, ""), insecure: u.protocol === "http:" };
}

/** What is wrong with an Apple .p8 key, or null; never the key itself. */
function appleKeyProblem(pem: string): string | null {
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return null;
    return "must be the EC P-256 key Apple gives as a .p8 file";
  } catch {
    return "is not a readable PEM private key (the .p8 file's content, -----BEGIN PRIVATE KEY-----)";
  }
}

/** "X: required with Y (… is all or none)" for each of `required` missing while any of `all` is set. */
function allOrNone(env: RawEnv, label: string, all: readonly string[], required: readonly string[], issue: Issue): boolean {
  const given = all.filter((v) => env[v] !== undefined);
  if (given.length === 0) return false;
  const missing = required.filter((v) => env[v] === undefined);
  for (const v of missing) issue(v, `required with ${given.join(", ")} (${label} sign-in is on only when all of ${required.join(", ")} are set)`);
  return missing.length === 0;
}

function parseSocial(env: RawEnv, issue: Issue): SocialSettings {
  const production = env.NODE_ENV === "production";
  const trust = (name: string, fallback: boolean) => read(env, name, flag(fallback), issue) ?? fallback;
  const scopes = (name: string, fallback: string, oidc: boolean) => {
    const list = read(env, name, scopeList(fallback), issue) ?? [];
    if (oidc && !list.includes("openid")) issue(name, 'must include "openid"');
    return list;
  };
  const audiences = (name: string) => read(env, name, commaList, issue) ?? [];
  const providers: ProviderConfig[] = [];

  if (allOrNone(env, "Google", PRESET_VARIABLES.google, ["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"], issue)) {
    providers.push({
      kind: "oidc",
      id: "google",
      name: "Google",
      issuer: "https://accounts.google.com",
      clientId: env.GOOGLE_CLIENT_ID!,
      clientSecret: env.GOOGLE_CLIENT_SECRET!,
      apple: null,
      scopes: scopes("GOOGLE_SCOPES", "openid email profile", true),
      audiences: audiences("GOOGLE_AUDIENCES"),
      trustEmail: trust("GOOGLE_TRUST_EMAIL", true),
      idTokenSignIn: true,
      insecure: false,
    });
  }

  if (allOrNone(env, "Apple", PRESET_VARIABLES.apple, ["APPLE_CLIENT_ID", "APPLE_TEAM_ID", "APPLE_KEY_ID", "APPLE_PRIVATE_KEY"], issue)) {
    // Settings files often hold a PEM on one line with \n escapes.
    const privateKeyPem = env.APPLE_PRIVATE_KEY!.replace(/\\n/g, "\n");
    const problem = appleKeyProblem(privateKeyPem);
    if (problem) issue("APPLE_PRIVATE_KEY", problem);
    providers.push({
      kind: "oidc",
      id: "apple",
      name: "Apple",
      issuer: "https://appleid.apple.com",
      clientId: env.APPLE_CLIENT_ID!,
      clientSecret: null,
      apple: { teamId: env.APPLE_TEAM_ID!, keyId: env.APPLE_KEY_ID!, privateKeyPem },
      scopes: scopes("APPLE_SCOPES", "openid email name", true),
      audiences: audiences("APPLE_AUDIENCES"),
      trustEmail: trust("APPLE_TRUST_EMAIL", true),
      idTokenSignIn: true,
      insecure: false,
    });
  }

  // Trusting emails from every tenant would let any tenant's admin claim any address.
  const microsoftTrust = (tenant: string): boolean => {
    const trusted = trust("MICROSOFT_TRUST_EMAIL", false);
    if (trusted && ["common", "organizations"].includes(tenant.toLowerCase())) {
      issue("MICROSOFT_TRUST_EMAIL", `must stay false with MICROSOFT_TENANT=${tenant}: any tenant's admin sets its users' emails (set your own tenant's id)`);
    }
    return trusted;
  };

  if (allOrNone(env, "Microsoft", PRESET_VARIABLES.microsoft, ["MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET"], issue)) {
    const tenant = read(env, "MICROSOFT_TENANT", z.string().regex(/^[\w.-]{1,64}$/, "must be common, organizations, consumers, a tenant id or a domain").default("common"), issue) ?? "common";
    providers.push({
      kind: "oidc",
      id: "microsoft",
      name: "Microsoft",
      issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
      clientId: env.MICROSOFT_CLIENT_ID!,
      clientSecret: env.MICROSOFT_CLIENT_SECRET!,
      apple: null,
      scopes: scopes("MICROSOFT_SCOPES", "openid email profile", true),
      audiences: [],
      // Entra ID's `email` claim is whatever the tenant's admin typed, unverified (the nOAuth issue).
      trustEmail: microsoftTrust(tenant),
      idTokenSignIn: false,
      insecure: false,
    });
  }

  if (allOrNone(env, "GitHub", PRESET_VARIABLES.github, ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"], issue)) {
    const web = endpointUrl({ GITHUB_URL: "https://github.com", ...env }, "GITHUB_URL", production, issue);
    const api = endpointUrl({ GITHUB_API_URL: "https://api.github.com", ...env }, "GITHUB_API_URL", production, issue);
    if (web && api) {
      providers.push({
        kind: "github",
        id: "github",
        name: "GitHub",
        clientId: env.GITHUB_CLIENT_ID!,
        clientSecret: env.GITHUB_CLIENT_SECRET!,
        scopes: scopes("GITHUB_SCOPES", "read:user user:email", false),
        webUrl: web.url,
        apiUrl: api.url,
        // Only GitHub's primary email, and only when GitHub verified it. An Enterprise Server's
        // "verified" is up to its own admins: not trusted unless said so.
        trustEmail: trust("GITHUB_TRUST_EMAIL", new URL(web.url).origin === "https://github.com"),
        insecure: web.insecure || api.insecure,
      });
    }
  }

  const ids = read(env, "OIDC_PROVIDERS", commaList, issue) ?? [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (!GENERIC_ID.test(id)) {
      issue("OIDC_PROVIDERS", `"${id}" is not an id: lower-case letters, digits and - only, at most 32`);
      continue;
    }
    if ((PRESET_IDS as readonly string[]).includes(id)) {
      issue("OIDC_PROVIDERS", `"${id}" is a preset: configure it with its own ${id.toUpperCase()}_* settings`);
      continue;
    }
    if (seen.has(id)) {
      issue("OIDC_PROVIDERS", `"${id}" is listed twice`);
      continue;
    }
    seen.add(id);
    const p = genericPrefix(id);
    const required = [`${p}ISSUER`, `${p}CLIENT_ID`, `${p}CLIENT_SECRET`];
    const missing = required.filter((v) => env[v] === undefined);
    for (const v of missing) issue(v, `required for the OpenID provider "${id}" listed in OIDC_PROVIDERS`);
    const issuer = endpointUrl(env, `${p}ISSUER`, production, issue);
    const name = read(env, `${p}NAME`, z.string().min(1).max(40).optional(), issue) ?? id;
    const list = scopes(`${p}SCOPES`, "openid email profile", true);
    const trustEmail = trust(`${p}TRUST_EMAIL`, false);
    if (missing.length || !issuer) continue;
    providers.push({
      kind: "oidc",
      id,
      name,
      issuer: issuer.url,
      clientId: env[`${p}CLIENT_ID`]!,
      clientSecret: env[`${p}CLIENT_SECRET`]!,
      apple: null,
      scopes: list,
      audiences: [],
      trustEmail,
      idTokenSignIn: true,
      insecure: issuer.insecure,
    });
  }
  // A generic provider's settings without its id in the list are most likely a typo: say so.
  const prefixes = [...seen].map(genericPrefix);
  for (const name of Object.keys(env)) {
    if (!name.startsWith("OIDC_") || name === "OIDC_PROVIDERS" || prefixes.some((p) => name.startsWith(p))) continue;
    if (GENERIC_FIELDS.some((f) => name.endsWith(`_${f}`))) issue(name, "belongs to no provider in OIDC_PROVIDERS");
  }

  const maxStarts = read(env, "SOCIAL_MAX_STARTS_PER_IP_PER_HOUR", int(120, 1, 100_000), issue) ?? 120;
  const maxSignIns = read(env, "SOCIAL_MAX_SIGN_INS_PER_IP_PER_HOUR", int(120, 1, 100_000), issue) ?? 120;
  return {
    providers,
    signUp: read(env, "SOCIAL_SIGNUP", flag(true), issue) ?? true,
    stateTtlSeconds: read(env, "SOCIAL_STATE_TTL_SECONDS", int(600, 60, 3600), issue) ?? 600,
    timeoutMs: read(env, "SOCIAL_PROVIDER_TIMEOUT_MS", int(10_000, 100, 60_000), issue) ?? 10_000,
    limits: {
      startPerIp: { max: maxStarts, windowSeconds: 3600 },
      completePerIp: { max: maxSignIns, windowSeconds: 3600 },
      idTokenPerIp: { max: maxSignIns, windowSeconds: 3600 },
    },
  };
}

export const socialSettings: SettingsSection<SocialSettings> = {
  variables: [...Object.values(PRESET_VARIABLES).flat(), ...SOCIAL_VARIABLES],
  schema: z.custom<RawEnv>((v) => typeof v === "object" && v !== null).transform((env, ctx) =>
    parseSocial(env, (variable, message) => ctx.addIssue({ code: "custom", message, path: [variable] })),
  ),
};
