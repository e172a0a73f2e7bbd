import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import path from "node:path";
import proxyaddr from "proxy-addr";
import { z } from "zod";
import type { TrustProxy } from "../core/client-info";
import { METHODS, type MethodSettings } from "../methods";
import { commaList, displayName, flag, int, redisClusterNodes, urlWith } from "./fields";
import { defaultsOf, missingInProduction, settingsSection, variable, type RawEnv, type SectionValue, type SettingsSection } from "./section";

/**
 * Every setting the gateway reads, validated once at start (contract README, "Settings"):
 * the spine's section below, and each sign-in method's own (METHODS[].settings). All
 * problems are collected into one error so an operator fixes them in one go.
 */

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

/** REDIRECT_URLS entries: absolute http(s) URLs without a fragment or user, normalised as a redirect is compared. */
function redirectUrlsOf(list: string[], ctx: z.RefinementCtx): string[] {
  return list.flatMap((entry) => {
    const bad = (why: string) => {
      ctx.addIssue({ code: "custom", message: `"${entry}" ${why}` });
      return [];
    };
    if (!URL.canParse(entry)) return bad("is not an absolute URL");
    const u = new URL(entry);
    if (u.protocol !== "http:" && u.protocol !== "https:") return bad("must start with http:// or https://");
    if (u.username || u.password || u.hash) return bad("must have no user and no #fragment (the gateway writes the fragment)");
    return [u.toString()];
  });
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

const hostName = z.string().regex(/^[\w.:-]{1,255}$/, "must be a host name or an IP address such as 127.0.0.1 or 0.0.0.0");

/** In-flight requests and closing Redis and Postgres need this long after the readiness delay, within the timeout. */
const DRAIN_SECONDS = 2;

/** The spine's settings: server, stores, tokens and sessions, mail, GraphQL limits, shutdown. */
const spineSettings = settingsSection(
  {
    env: variable("NODE_ENV", z.enum(["development", "production", "test"]).default("development")),
    port: variable("PORT", int(4000, 0, 65535)),
    /** No trailing slash; the JWT `iss` and the base of links. Unset: http://localhost:PORT. */
    publicUrl: variable("PUBLIC_URL", urlWith(["http:", "https:"])),
    /** Shown in messages; also the default TOTP issuer (authenticator labels are "<issuer>:<account>"). */
    appName: variable("APP_NAME", displayName.default("Auth Gateway")),
    dataDir: variable("DATA_DIR", z.string().default(".data").transform((dir) => path.resolve(dir))),
    logLevel: variable("LOG_LEVEL", z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info")),
    databaseUrl: variable("DATABASE_URL", urlWith(["postgres:", "postgresql:"])),
    redisUrl: variable("REDIS_URL", urlWith(["redis:", "rediss:"])),
    /** A Redis Cluster instead of one Redis (REDIS_URL): its nodes, host:port or URLs, comma-separated. */
    redisClusterNodes: variable("REDIS_CLUSTER_NODES", redisClusterNodes),
    /** False: this instance queues messages and another process (`node dist/src/worker.js`) sends them. */
    deliveryWorker: variable("DELIVERY_WORKER", flag(true)),
    /** Before every Redis key, channel and queue name: deployments sharing a Redis stay apart. */
    redisKeyPrefix: variable("REDIS_KEY_PREFIX", z.string().regex(/^[\w:.-]{0,64}$/, "letters, digits, _ : . - only").default("")),
    // A partitioned Redis or Postgres must not hold requests: past these, UNAVAILABLE.
    /** Longest wait for any Redis command (and connection) before it fails as UNAVAILABLE. */
    redisCommandTimeoutMs: variable("REDIS_COMMAND_TIMEOUT_MS", int(2_000, 100, 60_000)),
    /** Longest wait for a Postgres query or a new connection. */
    databaseQueryTimeoutMs: variable("DATABASE_QUERY_TIMEOUT_MS", int(5_000, 100, 300_000)),
    /** Which proxies may name the client in X-Forwarded-For (hop count or addresses); false: none. */
    trustProxy: variable("TRUST_PROXY", z.string().optional().transform((v, ctx) => trustProxyOf(v, ctx))),
    /** The interface to listen on: outside containers the gateway answers on this machine only (the dev outbox hands out codes). */
    host: variable("HOST", hostName.default("127.0.0.1")),
    /** Origins (scheme://host[:port]) allowed for CORS, WebSockets and redirects. Unset: PUBLIC_URL's. */
    allowedOrigins: variable("ALLOWED_ORIGINS", commaList.transform(originsOf)),
    /**
     * The exact URLs a browser flow may end at (social sign-in, linking, magic links). Unset:
     * any URL on an ALLOWED_ORIGINS origin, which trusts every page there not to leak its URL.
     */
    redirectUrls: variable("REDIRECT_URLS", commaList.transform(redirectUrlsOf)),
    jwt: {
      privateKeyPem: variable("JWT_PRIVATE_KEY", signingKeyPem),
      /** PEM public keys published in the JWKS and accepted beside the signing key (rotation). */
      additionalPublicKeys: variable("JWT_ADDITIONAL_PUBLIC_KEYS", publicKeysPem),
      audience: variable("JWT_AUDIENCE", z.string().min(1).default("graphql")),
      accessTtlSeconds: variable("ACCESS_TOKEN_TTL_SECONDS", int(900, 60, 900)),
      refreshTtlSeconds: variable("REFRESH_TOKEN_TTL_DAYS", int(30, 1, 365).transform((days) => days * 86400)),
      /** Browsers may ask for the refresh token as an httpOnly cookie (opt-in per request). */
      refreshCookie: {
        enabled: variable("REFRESH_TOKEN_COOKIE", flag(false)),
        path: variable("REFRESH_TOKEN_COOKIE_PATH", z.string().regex(/^\/[\w/.-]*$/, "must be a URL path such as /graphql").default("/graphql")),
      },
    },
    /** How long a session lives besides REFRESH_TOKEN_TTL_DAYS (NIST SP 800-63B §4.2.3). */
    session: {
      /** A session not refreshed for this long ends. */
      idleTimeoutSeconds: variable("SESSION_IDLE_TIMEOUT_SECONDS", int(7 * 86400, 300, 365 * 86400)),
      /** aal2 lapses to aal1 this long after the second factor was proven… */
      aal2MaxAgeSeconds: variable("AAL2_MAX_AGE_SECONDS", int(12 * 3600, 300, 30 * 86400)),
      /** …or after this long without a refresh. */
      aal2IdleSeconds: variable("AAL2_IDLE_SECONDS", int(1800, 120, 86400)),
    },
    mail: {
      smtpUrl: variable("SMTP_URL", urlWith(["smtp:", "smtps:"])),
      from: variable("MAIL_FROM", z.string().email().default("no-reply@localhost")),
    },
    graphql: {
      maxAuthMutationsPerOperation: variable("MAX_AUTH_MUTATIONS_PER_OPERATION", int(5, 1, 50)),
      maxSubscriptionsPerConnection: variable("WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", int(10, 1, 10000)),
      maxSubscriptionsPerIp: variable("WS_MAX_SUBSCRIPTIONS_PER_IP", int(100, 1, 1000000)),
      /** Open WebSocket connections per client address, idle ones too (each holds a socket and a few KiB). */
      maxConnectionsPerIp: variable("WS_MAX_CONNECTIONS_PER_IP", int(100, 1, 1000000)),
      /**
       * How often each WebSocket is pinged (one that missed the last ping is dropped). Under
       * the 55–60 s idle timeouts of common proxies; not much shorter: with thousands of
       * devices waiting, each round's garbage keeps V8 from giving back memory it no longer
       * uses (measured: 10,000 waiting, RSS growth 118 MB at 12 s, 27 MB at 25 s).
       */
      keepAliveSeconds: variable("WS_KEEPALIVE_SECONDS", int(25, 5, 300)),
      /** Per operation, HTTP and WebSocket alike (graphql/limits.ts). */
      maxTokens: variable("MAX_TOKENS", int(1000, 200, 100_000)),
      maxDepth: variable("MAX_DEPTH", int(8, 2, 100)),
      maxAliases: variable("MAX_ALIASES", int(15, 0, 1000)),
      maxDirectives: variable("MAX_DIRECTIVES", int(10, 0, 1000)),
      /** In production `_service` and `_entities` answer only requests carrying it (x-federation-secret). */
      federationSecret: variable("FEDERATION_SECRET", z.string().min(32, "must be at least 32 characters (e.g. openssl rand -base64 32)").optional()),
      /** Answer the router's `apollo-federation-include-trace: ftv1` with per-field timings. */
      inlineTrace: variable("FEDERATION_INLINE_TRACE", flag(false)),
    },
    shutdownTimeoutSeconds: variable("SHUTDOWN_TIMEOUT_SECONDS", int(10, 1, 120)),
    /**
     * SIGTERM: how long /readyz answers 503 (everything else still served) before the server
     * closes; within the timeout. Unset: 5 s in production (load balancers take a few seconds
     * to stop routing here), 0 elsewhere.
     */
    shutdownReadinessDelaySeconds: variable("SHUTDOWN_READINESS_DELAY_SECONDS", z.coerce.number().int().min(0).max(60).optional()),
    /** At start, how long an unreachable Postgres or Redis is retried before the process exits 1 (an orchestrator restarts it). */
    startupRetrySeconds: variable("STARTUP_RETRY_SECONDS", int(30, 0, 600)),
    /** GET /metrics (Prometheus) on its own listener, never on the public port; no port: not served at all. */
    metrics: {
      port: variable("METRICS_PORT", z.coerce.number().int().min(0).max(65535).optional()),
      host: variable("METRICS_HOST", hostName.default("127.0.0.1")),
    },
  },
  {
    finish: (s) => {
      const publicUrl = (s.publicUrl ?? `http://localhost:${s.port}`).replace(/\/+$/, "");
      const { port, host } = s.metrics;
      return {
        ...s,
        /** Where codes, limits, pub/sub and the queue live: one Redis, a cluster, or (unset) in process. */
        redis: s.redisClusterNodes ?? s.redisUrl,
        publicUrl,
        allowedOrigins: s.allowedOrigins.length ? s.allowedOrigins : [new URL(publicUrl).origin],
        shutdownReadinessDelaySeconds:
          s.shutdownReadinessDelaySeconds ?? (s.env === "production" ? Math.min(5, Math.max(0, s.shutdownTimeoutSeconds - DRAIN_SECONDS)) : 0),
        metrics: port === undefined ? undefined : { port, host },
      };
    },
    // Production never runs on an embedded default or a generated key.
    given: (env, production) =>
      production
        ? missingInProduction(env, {
            PUBLIC_URL: "the public base URL (JWT issuer, links)",
            DATABASE_URL: "instead of the embedded PGlite",
            ...(env.REDIS_CLUSTER_NODES === undefined && { REDIS_URL: "instead of the in-process store (or REDIS_CLUSTER_NODES for a Redis Cluster)" }),
            SMTP_URL: "instead of the development outbox",
            JWT_PRIVATE_KEY: "instead of a generated signing key",
          })
        : [],
    check: (s) => {
      const problems: string[] = [];
      for (const url of s.redirectUrls) {
        if (!s.allowedOrigins.includes(new URL(url).origin)) problems.push(`REDIRECT_URLS: ${url} is not on an ALLOWED_ORIGINS origin`);
      }
      if (s.redisUrl && s.redisClusterNodes) {
        problems.push("REDIS_CLUSTER_NODES: set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both");
      }
      if (!s.deliveryWorker && !s.redisUrl && !s.redisClusterNodes) {
        problems.push("DELIVERY_WORKER: false needs REDIS_URL or REDIS_CLUSTER_NODES (without Redis the queue is in this process, and nothing else could send its messages)");
      }
      // Activity is seen when a client refreshes, i.e. about once per access-token lifetime:
      // a shorter idle time would end (or downgrade) sessions that are in use.
      const idle = { SESSION_IDLE_TIMEOUT_SECONDS: s.session.idleTimeoutSeconds, AAL2_IDLE_SECONDS: s.session.aal2IdleSeconds };
      for (const [key, seconds] of Object.entries(idle)) {
        if (seconds < 2 * s.jwt.accessTtlSeconds) problems.push(`${key}: must be at least twice ACCESS_TOKEN_TTL_SECONDS (${2 * s.jwt.accessTtlSeconds})`);
      }
      const delay = s.shutdownReadinessDelaySeconds;
      if (delay > 0 && delay + DRAIN_SECONDS > s.shutdownTimeoutSeconds) {
        problems.push(`SHUTDOWN_READINESS_DELAY_SECONDS: must leave at least ${DRAIN_SECONDS} s of SHUTDOWN_TIMEOUT_SECONDS (${s.shutdownTimeoutSeconds}) for in-flight work`);
      }
      if (s.metrics && s.metrics.port !== 0 && s.metrics.port === s.port) {
        problems.push("METRICS_PORT: must differ from PORT (metrics are never served on the public port)");
      }
      return problems;
    },
  },
);

export type SpineSettings = SectionValue<typeof spineSettings>;
/** The spine's settings, and each method's section under its key (settings.otp, settings.totp…). */
export type Settings = SpineSettings & MethodSettings;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

/** Every method's sections by key; two claiming one key or one variable is a programming error. */
function methodSections(): Array<[string, SettingsSection<unknown>]> {
  const owner = new Map<string, string>([...spineSettings.variables.map((v) => [v, "the spine"] as const), ...Object.keys(defaultsOf(spineSettings)).map((k) => [`settings.${k}`, "the spine"] as const)]);
  const claim = (name: string, by: string) => {
    if (owner.has(name)) throw new Error(`${name} is claimed by both ${owner.get(name)} and the ${by} method`);
    owner.set(name, `the ${by} method`);
  };
  return METHODS.flatMap((m) =>
    Object.entries<SettingsSection<unknown>>(m.settings ?? {}).map(([key, section]): [string, SettingsSection<unknown>] => {
      claim(`settings.${key}`, m.id);
      for (const v of section.variables) claim(v, m.id);
      return [key, section];
    }),
  );
}
const METHOD_SECTIONS = methodSections();

/** What loadSettings would refuse in `env`, one line per bad setting; [] when it would start. */
export function settingsProblems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadSettings(env);
    return [];
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
}

/** Reads and checks the environment; throws one SettingsError naming every bad setting. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  // An empty variable means "unset", as in most .env tooling.
  const raw: RawEnv = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const production = raw.NODE_ENV === "production";
  const sections: Array<[string | null, SettingsSection<unknown>]> = [[null, spineSettings], ...METHOD_SECTIONS];
  const problems: string[] = [];
  const parsed: Array<[string | null, SettingsSection<unknown>, unknown]> = [];
  for (const [key, section] of sections) {
    const result = section.schema.safeParse(raw);
    if (result.success) parsed.push([key, section, result.data]);
    else problems.push(...result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  // Settings that are missing are named together with the malformed ones: one list, one fix.
  for (const [, section] of sections) problems.push(...(section.given?.(raw, production) ?? []));
  if (parsed.length < sections.length) throw new SettingsError(problems);
  for (const [, section, value] of parsed) problems.push(...(section.check?.(value) ?? []));
  if (problems.length) throw new SettingsError(problems);
  const [[, , spine], ...methods] = parsed;
  return Object.assign(spine as SpineSettings, Object.fromEntries(methods.map(([key, , value]) => [key, value]))) as Settings;
}
