import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import path from "node:path";
import { getCountries } from "libphonenumber-js/max";
import proxyaddr from "proxy-addr";
import { z } from "zod";
import type { TrustProxy } from "../core/client-info";
import { parseKeyList, SecretBoxError } from "../core/secret-box";
import { SMS_GUARD_DEFAULTS, type SmsGuardSettings } from "../methods/otp/sms-guard";

/**
 * Every setting the gateway reads, validated once at start (contract README, "Settings").
 * All problems are collected into one error so an operator fixes them in one go.
 */

const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes", "on"].includes(v)));

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const commaList = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean));

// The value is never echoed: URLs carry passwords.
const urlWith = (protocols: string[]) => {
  const schemes = protocols.map((p) => `${p}//`).join(" or ");
  return z
    .string()
    .superRefine((u, ctx) => {
      if (!URL.canParse(u)) ctx.addIssue({ code: "custom", message: `is not a URL: it must start with ${schemes}` });
      else if (!protocols.includes(new URL(u).protocol)) ctx.addIssue({ code: "custom", message: `must start with ${schemes}` });
    })
    .optional();
};

/** Each entry an origin, scheme://host[:port]: "localhost:3000" would parse as the scheme "localhost:". */
function originsOf(list: string[], ctx: z.RefinementCtx): string[] {
  return list.flatMap((entry) => {
    const bad = (why: string) => {
      ctx.addIssue({ code: "custom", message: `"${entry}" ${why}` });
      return [];
    };
    if (!/^[a-z][a-z\d+.-]*:\/\//i.test(entry)) return bad(`has no scheme: write it as https://${entry} (or http:// for local development)`);
    if (!URL.canParse(entry)) return bad("is not a URL");
    const u = new URL(entry);
    if (u.protocol !== "http:" && u.protocol !== "https:") return bad("must start with http:// or https://");
    if (u.username || u.password || u.pathname !== "/" || u.search || u.hash) return bad("must be an origin only: scheme://host[:port], without a path, query or user");
    return [u.origin];
  });
}

// The codes phone numbers resolve to (libphonenumber-js): a code outside them never matches.
const COUNTRIES = new Set<string>(getCountries());
const COUNTRY_HINTS: Record<string, string> = { UK: "GB", EL: "GR" };

function countriesOf(raw: string, ctx: z.RefinementCtx): string[] | "*" {
  if (raw.trim() === "*") return "*";
  const codes = raw.split(",").map((c) => c.trim().toUpperCase()).filter(Boolean);
  const unknown = codes.filter((c) => !COUNTRIES.has(c));
  if (codes.length === 0 || unknown.length > 0) {
    const hints = unknown.filter((c) => COUNTRY_HINTS[c]).map((c) => `${c} is ${COUNTRY_HINTS[c]}`);
    ctx.addIssue({
      code: "custom",
      message: `must be * or a comma list of ISO 3166-1 alpha-2 country codes; not one: ${unknown.join(", ") || "(empty)"}${hints.length ? ` (${hints.join(", ")})` : ""}`,
    });
  }
  return codes;
}

/** What is wrong with a PEM key for ES256, or null; never the key itself. */
function es256KeyProblem(pem: string, kind: "private" | "public"): string | null {
  let key: KeyObject;
  try {
    key = kind === "private" ? createPrivateKey(pem) : createPublicKey(pem);
  } catch {
    return `is not a readable PEM ${kind} key${kind === "private" ? " (unencrypted PKCS#8 or SEC1)" : ""}`;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === "ec" && curve === "prime256v1") return null;
  const found = key.asymmetricKeyType === "ec" ? `an EC key on ${curve}` : `an ${String(key.asymmetricKeyType).toUpperCase()} key`;
  return `is ${found}; ES256 needs an EC P-256 (prime256v1) key, e.g. openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt`;
}

// Settings files often hold a PEM on one line with \n escapes.
const pemWithEscapes = z.string().transform((v) => v.replace(/\\n/g, "\n"));

const signingKeyPem = pemWithEscapes
  .superRefine((pem, ctx) => {
    const problem = es256KeyProblem(pem, "private");
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .optional();

const PUBLIC_PEM = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;
const publicKeysPem = pemWithEscapes
  .superRefine((pems, ctx) => {
    const blocks = pems.match(PUBLIC_PEM) ?? [];
    // Anything else (an RSA PUBLIC KEY block, a private key pasted by mistake) would be ignored silently.
    if (blocks.length === 0 || pems.replace(PUBLIC_PEM, "").trim() !== "") {
      ctx.addIssue({ code: "custom", message: "must hold only PEM public keys (-----BEGIN PUBLIC KEY----- blocks)" });
      return;
    }
    blocks.forEach((pem, i) => {
      const problem = es256KeyProblem(pem, "public");
      if (problem) ctx.addIssue({ code: "custom", message: `key #${i + 1} ${problem}` });
    });
  })
  .optional();

/** `<id>:<base64 of 32 bytes>` entries, checked as the TOTP method will read them. */
const totpKeys = z
  .string()
  .superRefine((v, ctx) => {
    const [first, ...rest] = v.split(",");
    try {
      parseKeyList(first, rest.join(","));
    } catch (e) {
      if (!(e instanceof SecretBoxError)) throw e;
      ctx.addIssue({ code: "custom", message: `${e.message} Make one with: echo "k1:$(openssl rand -base64 32)"` });
    }
  })
  .optional();

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: int(4000, 0, 65535),
  PUBLIC_URL: urlWith(["http:", "https:"]),
  // Also the default TOTP issuer: authenticator labels are "<issuer>:<account>".
  APP_NAME: z.string().min(1).max(60).refine((v) => !v.includes(":"), "must not contain a colon").default("Auth Gateway"),
  DATA_DIR: z.string().default(".data"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: urlWith(["postgres:", "postgresql:"]),
  REDIS_URL: urlWith(["redis:", "rediss:"]),
  REDIS_KEY_PREFIX: z.string().regex(/^[\w:.-]{0,64}$/, "letters, digits, _ : . - only").default(""),
  // A partitioned Redis or Postgres must not hold requests: past these, UNAVAILABLE.
  REDIS_COMMAND_TIMEOUT_MS: int(2_000, 100, 60_000),
  DATABASE_QUERY_TIMEOUT_MS: int(5_000, 100, 300_000),
  SMTP_URL: urlWith(["smtp:", "smtps:"]),
  MAIL_FROM: z.string().email().default("no-reply@localhost"),
  SMS_ENABLED: flag(true),
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be AC followed by 32 hex digits").optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  TWILIO_FROM: z.string().min(1).optional(),
  TWILIO_API_BASE_URL: urlWith(["http:", "https:"]),
  JWT_PRIVATE_KEY: signingKeyPem,
  JWT_AUDIENCE: z.string().min(1).default("graphql"),
  JWT_ADDITIONAL_PUBLIC_KEYS: publicKeysPem,
  ACCESS_TOKEN_TTL_SECONDS: int(900, 60, 900),
  REFRESH_TOKEN_TTL_DAYS: int(30, 1, 365),
  SESSION_IDLE_TIMEOUT_SECONDS: int(7 * 86400, 300, 365 * 86400),
  AAL2_MAX_AGE_SECONDS: int(12 * 3600, 300, 30 * 86400),
  AAL2_IDLE_SECONDS: int(1800, 120, 86400),
  REFRESH_TOKEN_COOKIE: flag(false),
  REFRESH_TOKEN_COOKIE_PATH: z.string().regex(/^\/[\w/.-]*$/, "must be a URL path such as /graphql").default("/graphql"),
  OTP_LENGTH: int(6, 6, 10),
  OTP_TTL_SECONDS: int(300, 30, 3600),
  OTP_MAX_ATTEMPTS: int(5, 1, 20),
  OTP_SIGNUP: flag(true),
  OTP_RESEND_COOLDOWN_SECONDS: int(60, 0, 3600),
  OTP_MAX_PER_DESTINATION_PER_HOUR: int(5, 1, 1000),
  OTP_MAX_REQUESTS_PER_IP_PER_HOUR: int(30, 1, 100000),
  OTP_MAX_FAILED_VERIFICATIONS: int(10, 1, 1000),
  OTP_FAILED_VERIFICATION_WINDOW_SECONDS: int(1800, 60, 86400),
  MAGIC_LINK_TTL_SECONDS: int(900, 60, 86400),
  MAGIC_LINK_SIGNUP: flag(true),
  TOTP_ISSUER: z.string().min(1).max(60).refine((v) => !v.includes(":"), "must not contain a colon").optional(),
  TOTP_ENCRYPTION_KEY: totpKeys.refine((v) => v === undefined || !v.includes(","), "one key (retired ones go in TOTP_ENCRYPTION_KEY_PREVIOUS)"),
  TOTP_ENCRYPTION_KEY_PREVIOUS: totpKeys,
  ALLOWED_ORIGINS: commaList.transform(originsOf),
  SMS_ALLOWED_COUNTRIES: z.string().default("*").transform(countriesOf),
  SMS_DAILY_BUDGET_PER_COUNTRY: int(1000, 1, 10_000_000),
  SMS_PREFIX_VELOCITY_MAX: int(10, 1, 100_000),
  SMS_PREFIX_VELOCITY_WINDOW_SECONDS: int(3600, 60, 86400),
  SMS_BREAKER_MIN_SAMPLES: int(50, 1, 1_000_000),
  SMS_BREAKER_UNVERIFIED_RATIO: z.coerce.number().gt(0).max(1).default(0.9),
  SMS_BREAKER_WINDOW_SECONDS: int(3600, 60, 86400),
  SMS_BREAKER_PAUSE_SECONDS: int(3600, 60, 604800),
  SMS_BREAKER_MAX_SAMPLES_PER_SOURCE: int(SMS_GUARD_DEFAULTS.breaker.maxSamplesPerSource, 1, 1_000_000),
  TRUST_PROXY: z.string().optional().transform((v, ctx) => trustProxyOf(v, ctx)),
  // Outside containers the gateway answers on this machine only (the dev outbox hands out codes).
  HOST: z.string().regex(/^[\w.:-]{1,255}$/, "must be a host name or an IP address such as 127.0.0.1 or 0.0.0.0").default("127.0.0.1"),
  LOGIN_MAX_FAILURES: int(10, 3, 1000),
  LOGIN_FAILURE_WINDOW_SECONDS: int(900, 60, 86400),
  MAX_AUTH_MUTATIONS_PER_OPERATION: int(5, 1, 50),
  MAX_TOKENS: int(1000, 200, 100_000),
  MAX_DEPTH: int(8, 2, 100),
  MAX_ALIASES: int(15, 0, 1000),
  MAX_DIRECTIVES: int(10, 0, 1000),
  FEDERATION_SECRET: z.string().min(32, "must be at least 32 characters (e.g. openssl rand -base64 32)").optional(),
  FEDERATION_INLINE_TRACE: flag(false),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: int(10, 1, 10000),
  WS_MAX_SUBSCRIPTIONS_PER_IP: int(100, 1, 1000000),
  SHUTDOWN_TIMEOUT_SECONDS: int(10, 1, 120),
  // Unset: 5 s in production (load balancers take a few seconds to stop routing here), 0 elsewhere.
  SHUTDOWN_READINESS_DELAY_SECONDS: z.coerce.number().int().min(0).max(60).optional(),
  // Then exit 1: an orchestrator restarts the container; a gateway without its stores serves nothing.
  STARTUP_RETRY_SECONDS: int(30, 0, 600),
  // Prometheus on a port of its own, off unless set: never on the public port.
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().regex(/^[\w.:-]{1,255}$/, "must be a host name or an IP address such as 127.0.0.1 or 0.0.0.0").default("127.0.0.1"),
});

/**
 * TRUST_PROXY with Express's `trust proxy` meaning: a hop count ("1" behind one load
 * balancer) or a comma list of proxy addresses / CIDRs. "true" would believe every
 * X-Forwarded-For entry, which the client writes itself, so it is refused.
 */
function trustProxyOf(raw: string | undefined, ctx: z.RefinementCtx): TrustProxy {
  const v = raw?.trim().toLowerCase();
  if (v === undefined || ["false", "no", "off", "0"].includes(v)) return false;
  if (["true", "yes", "on"].includes(v)) {
    ctx.addIssue({
      code: "custom",
      message:
        "'true' would trust every X-Forwarded-For entry, which clients write themselves; give the number of proxies in front of the gateway (TRUST_PROXY=1 behind one load balancer) or their addresses (e.g. loopback,10.0.0.0/8)",
    });
    return false;
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 10) ctx.addIssue({ code: "custom", message: "at most 10 proxy hops" });
    return hops;
  }
  const list = v.split(",").map((s) => s.trim()).filter(Boolean);
  try {
    proxyaddr.compile(list);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: `must be a hop count or a comma list of addresses, CIDRs, loopback, linklocal, uniquelocal (${(e as Error).message})` });
  }
  return list;
}

export type Environment = "development" | "production" | "test";

export interface Settings {
  env: Environment;
  port: number;
  /** No trailing slash; the JWT `iss` and the base of links. */
  publicUrl: string;
  /** Shown in messages and as the TOTP issuer. */
  appName: string;
  dataDir: string;
  logLevel: string;
  databaseUrl?: string;
  redisUrl?: string;
  /** Before every Redis key, channel and queue name: deployments sharing a Redis stay apart. */
  redisKeyPrefix: string;
  /** Longest wait for any Redis command (and connection) before it fails as UNAVAILABLE. */
  redisCommandTimeoutMs: number;
  /** Longest wait for a Postgres query or a new connection. */
  databaseQueryTimeoutMs: number;
  /** Which proxies may name the client in X-Forwarded-For (hop count or addresses); false: none. */
  trustProxy: TrustProxy;
  /** The interface to listen on; 127.0.0.1 unless set (containers set 0.0.0.0). */
  host: string;
  /** Origins (scheme://host[:port]) allowed for CORS, WebSockets and redirects. */
  allowedOrigins: string[];
  jwt: {
    privateKeyPem?: string;
    /** PEM public keys published in the JWKS and accepted beside the signing key (rotation). */
    additionalPublicKeys?: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    /** Browsers may ask for the refresh token as an httpOnly cookie (opt-in per request). */
    refreshCookie: { enabled: boolean; path: string };
  };
  /** How long a session lives besides REFRESH_TOKEN_TTL_DAYS (NIST SP 800-63B §4.2.3). */
  session: {
    /** A session not refreshed for this long ends. */
    idleTimeoutSeconds: number;
    /** aal2 lapses to aal1 this long after the second factor was proven… */
    aal2MaxAgeSeconds: number;
    /** …or after this long without a refresh. */
    aal2IdleSeconds: number;
  };
  mail: { smtpUrl?: string; from: string };
  sms: {
    enabled: boolean;
    twilio?: { accountSid: string; authToken: string; from: string; apiBaseUrl?: string };
    /** ISO 3166-1 alpha-2 codes, or "*" for any. */
    allowedCountries: string[] | "*";
    /** Against SMS pumping (toll fraud); SMS and voice codes alike. */
    guard: SmsGuardSettings;
  };
  otp: {
    length: number;
    ttlSeconds: number;
    maxAttempts: number;
    /** SIGN_IN creates the account on first success. */
    signUp: boolean;
    resendCooldownSeconds: number;
    maxPerDestinationPerHour: number;
    maxRequestsPerIpPerHour: number;
    /** Failed verifications per destination across challenges before a temporary lock. */
    maxFailedVerifications: number;
    failedVerificationWindowSeconds: number;
  };
  magicLink: {
    ttlSeconds: number;
    /** A link for an unknown email creates the account when used. */
    signUp: boolean;
  };
  totp: {
    /** The issuer authenticator apps show; defaults to APP_NAME. */
    issuer: string;
    /** `<id>:<base64 32 bytes>` (or bare base64); unset outside production: generated into DATA_DIR. */
    encryptionKey?: string;
    /** Comma list of retired keys, still used to open secrets sealed before a rotation. */
    previousEncryptionKeys?: string;
  };
  login: { maxFailures: number; failureWindowSeconds: number };
  graphql: {
    maxAuthMutationsPerOperation: number;
    maxSubscriptionsPerConnection: number;
    maxSubscriptionsPerIp: number;
    /** Per operation, HTTP and WebSocket alike (graphql/limits.ts). */
    maxTokens: number;
    maxDepth: number;
    maxAliases: number;
    maxDirectives: number;
    /** In production `_service` and `_entities` answer only requests carrying it (x-federation-secret). */
    federationSecret?: string;
    /** Answer the router's `apollo-federation-include-trace: ftv1` with per-field timings. */
    inlineTrace: boolean;
  };
  shutdownTimeoutSeconds: number;
  /** SIGTERM: how long /readyz answers 503 (everything else still served) before the server closes; within the timeout. */
  shutdownReadinessDelaySeconds: number;
  /** At start, how long an unreachable Postgres or Redis is retried before the process exits 1. */
  startupRetrySeconds: number;
  /** GET /metrics (Prometheus) on its own listener; absent: not served at all. */
  metrics?: { port: number; host: string };
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

const TWILIO_KEYS = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"] as const;

/** Reads and checks the environment; throws one SettingsError naming every bad setting. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  // An empty variable means "unset", as in most .env tooling.
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(raw);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  // Settings that are missing are named together with the malformed ones: one list, one fix.
  const given = (key: string) => raw[key] !== undefined;

  const twilioGiven = TWILIO_KEYS.filter(given);
  if (twilioGiven.length > 0 && twilioGiven.length < TWILIO_KEYS.length) {
    problems.push(`${TWILIO_KEYS.filter((k) => !given(k)).join(", ")}: required together with ${twilioGiven.join(", ")}`);
  }

  if (raw.NODE_ENV === "production") {
    // Production never runs on an embedded default or a generated key.
    const required: Array<[string, string]> = [
      ["PUBLIC_URL", "the public base URL (JWT issuer, links)"],
      ["DATABASE_URL", "instead of the embedded PGlite"],
      ["REDIS_URL", "instead of the in-process store"],
      ["SMTP_URL", "instead of the development outbox"],
      ["JWT_PRIVATE_KEY", "instead of a generated signing key"],
      ["TOTP_ENCRYPTION_KEY", "instead of a generated key for authenticator secrets"],
    ];
    if (!["false", "0", "no", "off"].includes(raw.SMS_ENABLED ?? "")) {
      for (const k of TWILIO_KEYS) required.push([k, "for SMS (or set SMS_ENABLED=false)"]);
    }
    for (const [key, why] of required) if (!given(key)) problems.push(`${key}: required in production, ${why}`);
  }
  if (!parsed.success) throw new SettingsError(problems);
  const e = parsed.data;

  // Activity is seen when a client refreshes, i.e. about once per access-token lifetime:
  // a shorter idle time would end (or downgrade) sessions that are in use.
  for (const key of ["SESSION_IDLE_TIMEOUT_SECONDS", "AAL2_IDLE_SECONDS"] as const) {
    if (e[key] < 2 * e.ACCESS_TOKEN_TTL_SECONDS) problems.push(`${key}: must be at least twice ACCESS_TOKEN_TTL_SECONDS (${2 * e.ACCESS_TOKEN_TTL_SECONDS})`);
  }
  // In-flight requests and closing Redis and Postgres need time after the delay, within the timeout.
  const drainSeconds = 2;
  const readinessDelay = e.SHUTDOWN_READINESS_DELAY_SECONDS ?? (e.NODE_ENV === "production" ? Math.min(5, Math.max(0, e.SHUTDOWN_TIMEOUT_SECONDS - drainSeconds)) : 0);
  if (readinessDelay > 0 && readinessDelay + drainSeconds > e.SHUTDOWN_TIMEOUT_SECONDS) {
    problems.push(`SHUTDOWN_READINESS_DELAY_SECONDS: must leave at least ${drainSeconds} s of SHUTDOWN_TIMEOUT_SECONDS (${e.SHUTDOWN_TIMEOUT_SECONDS}) for in-flight work`);
  }
  if (e.TOTP_ENCRYPTION_KEY && e.TOTP_ENCRYPTION_KEY_PREVIOUS) {
    try {
      parseKeyList(e.TOTP_ENCRYPTION_KEY, e.TOTP_ENCRYPTION_KEY_PREVIOUS);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      problems.push(`TOTP_ENCRYPTION_KEY_PREVIOUS: ${err.message} Give each key its own id.`);
    }
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    problems.push("METRICS_PORT: must differ from PORT (metrics are never served on the public port)");
  }
  if (problems.length) throw new SettingsError(problems);

  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
  const allowedOrigins = e.ALLOWED_ORIGINS.length ? e.ALLOWED_ORIGINS : [new URL(publicUrl).origin];

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    publicUrl,
    appName: e.APP_NAME,
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    databaseQueryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY,
    host: e.HOST,
    allowedOrigins,
    jwt: {
      privateKeyPem: e.JWT_PRIVATE_KEY,
      additionalPublicKeys: e.JWT_ADDITIONAL_PUBLIC_KEYS,
      audience: e.JWT_AUDIENCE,
      accessTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: e.REFRESH_TOKEN_TTL_DAYS * 86400,
      refreshCookie: { enabled: e.REFRESH_TOKEN_COOKIE, path: e.REFRESH_TOKEN_COOKIE_PATH },
    },
    session: { idleTimeoutSeconds: e.SESSION_IDLE_TIMEOUT_SECONDS, aal2MaxAgeSeconds: e.AAL2_MAX_AGE_SECONDS, aal2IdleSeconds: e.AAL2_IDLE_SECONDS },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    sms: {
      enabled: e.SMS_ENABLED,
      twilio:
        e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_FROM
          ? { accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, from: e.TWILIO_FROM, apiBaseUrl: e.TWILIO_API_BASE_URL }
          : undefined,
      allowedCountries: e.SMS_ALLOWED_COUNTRIES,
      guard: {
        dailyBudgetPerCountry: e.SMS_DAILY_BUDGET_PER_COUNTRY,
        prefixVelocity: { max: e.SMS_PREFIX_VELOCITY_MAX, windowSeconds: e.SMS_PREFIX_VELOCITY_WINDOW_SECONDS },
        // A block of 10,000 numbers, the unit pumping rings cycle through.
        prefixDigits: SMS_GUARD_DEFAULTS.prefixDigits,
        breaker: {
          minSamples: e.SMS_BREAKER_MIN_SAMPLES,
          unverifiedRatio: e.SMS_BREAKER_UNVERIFIED_RATIO,
          windowSeconds: e.SMS_BREAKER_WINDOW_SECONDS,
          pauseSeconds: e.SMS_BREAKER_PAUSE_SECONDS,
          maxSamplesPerSource: e.SMS_BREAKER_MAX_SAMPLES_PER_SOURCE,
        },
      },
    },
    otp: {
      length: e.OTP_LENGTH,
      ttlSeconds: e.OTP_TTL_SECONDS,
      maxAttempts: e.OTP_MAX_ATTEMPTS,
      signUp: e.OTP_SIGNUP,
      resendCooldownSeconds: e.OTP_RESEND_COOLDOWN_SECONDS,
      maxPerDestinationPerHour: e.OTP_MAX_PER_DESTINATION_PER_HOUR,
      maxRequestsPerIpPerHour: e.OTP_MAX_REQUESTS_PER_IP_PER_HOUR,
      maxFailedVerifications: e.OTP_MAX_FAILED_VERIFICATIONS,
      failedVerificationWindowSeconds: e.OTP_FAILED_VERIFICATION_WINDOW_SECONDS,
    },
    magicLink: { ttlSeconds: e.MAGIC_LINK_TTL_SECONDS, signUp: e.MAGIC_LINK_SIGNUP },
    totp: { issuer: e.TOTP_ISSUER ?? e.APP_NAME, encryptionKey: e.TOTP_ENCRYPTION_KEY, previousEncryptionKeys: e.TOTP_ENCRYPTION_KEY_PREVIOUS },
    login: { maxFailures: e.LOGIN_MAX_FAILURES, failureWindowSeconds: e.LOGIN_FAILURE_WINDOW_SECONDS },
    graphql: {
      maxAuthMutationsPerOperation: e.MAX_AUTH_MUTATIONS_PER_OPERATION,
      maxSubscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxSubscriptionsPerIp: e.WS_MAX_SUBSCRIPTIONS_PER_IP,
      maxTokens: e.MAX_TOKENS,
      maxDepth: e.MAX_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxDirectives: e.MAX_DIRECTIVES,
      federationSecret: e.FEDERATION_SECRET,
      inlineTrace: e.FEDERATION_INLINE_TRACE,
    },
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    shutdownReadinessDelaySeconds: readinessDelay,
    startupRetrySeconds: e.STARTUP_RETRY_SECONDS,
    metrics: e.METRICS_PORT === undefined ? undefined : { port: e.METRICS_PORT, host: e.METRICS_HOST },
  };
}
