import { generateKeyPairSync } from "node:crypto";
import { loadSettings, settingsProblems } from "./settings";

const pemOf = (type: "ec" | "rsa", opts: { namedCurve?: string; modulusLength?: number }) => {
  const { privateKey, publicKey } = generateKeyPairSync(type as "ec", opts as { namedCurve: string });
  return { privatePem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(), publicPem: publicKey.export({ format: "pem", type: "spki" }).toString() };
};
const P256 = pemOf("ec", { namedCurve: "prime256v1" });
const RSA = pemOf("rsa", { modulusLength: 2048 });
const P384 = pemOf("ec", { namedCurve: "secp384r1" });
const TOTP_KEY = `k1:${Buffer.alloc(32, 1).toString("base64")}`;

const problemsOf = settingsProblems;

describe("loadSettings", () => {
  it("runs on embedded defaults with no settings", () => {
    const s = loadSettings({});
    expect(s.port).toBe(4000);
    expect(s.publicUrl).toBe("http://localhost:4000");
    expect(s.allowedOrigins).toEqual(["http://localhost:4000"]);
    expect(s.databaseUrl).toBeUndefined();
    expect(s.redisUrl).toBeUndefined();
    expect(s.jwt.audience).toBe("graphql");
    expect(s.jwt.accessTtlSeconds).toBe(900);
    expect(s.otp).toMatchObject({ length: 6, ttlSeconds: 300, maxAttempts: 5, signUp: true, resendCooldownSeconds: 60 });
    expect(s.magicLink.ttlSeconds).toBe(900);
    expect(s.sms.allowedCountries).toBe("*");
    expect(s.trustProxy).toBe(false);
  });

  it("bounds every Redis and Postgres wait, by default 2 s and 5 s", () => {
    expect(loadSettings({})).toMatchObject({ redisCommandTimeoutMs: 2_000, databaseQueryTimeoutMs: 5_000 });
    expect(loadSettings({ REDIS_COMMAND_TIMEOUT_MS: "500", DATABASE_QUERY_TIMEOUT_MS: "1000" })).toMatchObject({ redisCommandTimeoutMs: 500, databaseQueryTimeoutMs: 1_000 });
    const problems = problemsOf({ REDIS_COMMAND_TIMEOUT_MS: "0", DATABASE_QUERY_TIMEOUT_MS: "forever" });
    expect(problems.some((p) => p.startsWith("REDIS_COMMAND_TIMEOUT_MS"))).toBe(true);
    expect(problems.some((p) => p.startsWith("DATABASE_QUERY_TIMEOUT_MS"))).toBe(true);
  });

  it("fails readiness for 5 s before closing in production, 0 elsewhere, always within SHUTDOWN_TIMEOUT_SECONDS", () => {
    const production = {
      NODE_ENV: "production",
      PUBLIC_URL: "https://auth.example.com",
      DATABASE_URL: "postgres://db/auth",
      REDIS_URL: "redis://redis:6379",
      SMTP_URL: "smtp://mail:25",
      // Keys are read at start: they must be real ones.
      JWT_PRIVATE_KEY: P256.privatePem,
      TOTP_ENCRYPTION_KEY: TOTP_KEY,
      SMS_ENABLED: "false",
    };
    expect(loadSettings({}).shutdownReadinessDelaySeconds).toBe(0);
    expect(loadSettings(production).shutdownReadinessDelaySeconds).toBe(5);
    // The default shrinks to fit a short timeout; a value given must fit as it is.
    expect(loadSettings({ ...production, SHUTDOWN_TIMEOUT_SECONDS: "4" }).shutdownReadinessDelaySeconds).toBe(2);
    expect(loadSettings({ SHUTDOWN_READINESS_DELAY_SECONDS: "8", SHUTDOWN_TIMEOUT_SECONDS: "10" }).shutdownReadinessDelaySeconds).toBe(8);
    expect(problemsOf({ SHUTDOWN_READINESS_DELAY_SECONDS: "9", SHUTDOWN_TIMEOUT_SECONDS: "10" })[0]).toMatch(/^SHUTDOWN_READINESS_DELAY_SECONDS: .*SHUTDOWN_TIMEOUT_SECONDS/);
  });

  it("guards SMS against pumping with documented defaults", () => {
    expect(loadSettings({}).sms.guard).toEqual({
      dailyBudgetPerCountry: 1000,
      prefixVelocity: { max: 10, windowSeconds: 3600 },
      prefixDigits: 4,
      breaker: { minSamples: 50, unverifiedRatio: 0.9, windowSeconds: 3600, pauseSeconds: 3600, maxSamplesPerSource: 5 },
    });
  });

  it("takes the SMS guard settings", () => {
    const s = loadSettings({
      SMS_DAILY_BUDGET_PER_COUNTRY: "200",
      SMS_PREFIX_VELOCITY_MAX: "3",
      SMS_PREFIX_VELOCITY_WINDOW_SECONDS: "600",
      SMS_BREAKER_MIN_SAMPLES: "20",
      SMS_BREAKER_UNVERIFIED_RATIO: "0.75",
      SMS_BREAKER_WINDOW_SECONDS: "1800",
      SMS_BREAKER_PAUSE_SECONDS: "7200",
      SMS_BREAKER_MAX_SAMPLES_PER_SOURCE: "2",
    });
    expect(s.sms.guard).toEqual({
      dailyBudgetPerCountry: 200,
      prefixVelocity: { max: 3, windowSeconds: 600 },
      prefixDigits: 4,
      breaker: { minSamples: 20, unverifiedRatio: 0.75, windowSeconds: 1800, pauseSeconds: 7200, maxSamplesPerSource: 2 },
    });
  });

  it("refuses SMS guard settings out of range, naming each", () => {
    const problems = problemsOf({
      SMS_DAILY_BUDGET_PER_COUNTRY: "0",
      SMS_PREFIX_VELOCITY_MAX: "ten",
      SMS_BREAKER_MIN_SAMPLES: "2.5",
      SMS_BREAKER_UNVERIFIED_RATIO: "1.5",
      SMS_BREAKER_PAUSE_SECONDS: "-1",
    });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "SMS_BREAKER_MIN_SAMPLES",
      "SMS_BREAKER_PAUSE_SECONDS",
      "SMS_BREAKER_UNVERIFIED_RATIO",
      "SMS_DAILY_BUDGET_PER_COUNTRY",
      "SMS_PREFIX_VELOCITY_MAX",
    ]);
  });

  it("wants the breaker's unverified ratio above 0 and at most 1", () => {
    for (const bad of ["0", "-0.1", "1.01", "abc"]) {
      expect(problemsOf({ SMS_BREAKER_UNVERIFIED_RATIO: bad })[0]).toMatch(/^SMS_BREAKER_UNVERIFIED_RATIO/);
    }
    expect(loadSettings({ SMS_BREAKER_UNVERIFIED_RATIO: "1" }).sms.guard.breaker.unverifiedRatio).toBe(1);
  });

  it("names every bad setting in one error", () => {
    const problems = problemsOf({ PORT: "x", REDIS_URL: "http://nope", OTP_LENGTH: "4", SMS_ALLOWED_COUNTRIES: "USA" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["OTP_LENGTH", "PORT", "REDIS_URL", "SMS_ALLOWED_COUNTRIES"]);
  });

  it("refuses an access-token lifetime over 15 minutes", () => {
    expect(problemsOf({ ACCESS_TOKEN_TTL_SECONDS: "901" })[0]).toMatch(/^ACCESS_TOKEN_TTL_SECONDS/);
  });

  it("ends idle sessions after 7 days and lets aal2 lapse after 12 h or 30 min idle (NIST SP 800-63B)", () => {
    expect(loadSettings({}).session).toEqual({ idleTimeoutSeconds: 7 * 86400, aal2MaxAgeSeconds: 12 * 3600, aal2IdleSeconds: 1800 });
    expect(loadSettings({ SESSION_IDLE_TIMEOUT_SECONDS: "1800", AAL2_MAX_AGE_SECONDS: "3600", AAL2_IDLE_SECONDS: "900", ACCESS_TOKEN_TTL_SECONDS: "300" }).session).toEqual({
      idleTimeoutSeconds: 1800,
      aal2MaxAgeSeconds: 3600,
      aal2IdleSeconds: 900,
    });
    expect(problemsOf({ AAL2_MAX_AGE_SECONDS: "0" })[0]).toMatch(/^AAL2_MAX_AGE_SECONDS/);
  });

  describe("REDIS_CLUSTER_NODES", () => {
    it("reads host:port nodes into a cluster target, in place of REDIS_URL", () => {
      const s = loadSettings({ REDIS_CLUSTER_NODES: "redis-1:7000, 10.0.0.2:7001,[::1]:7002" });
      expect(s.redis).toEqual({ cluster: [{ host: "redis-1", port: 7000 }, { host: "10.0.0.2", port: 7001 }, { host: "::1", port: 7002 }], tls: false });
      expect(loadSettings({ REDIS_URL: "redis://r:6379" }).redis).toBe("redis://r:6379");
      expect(loadSettings({}).redis).toBeUndefined();
    });

    it("reads TLS and credentials from redis:// or rediss:// nodes, which must agree", () => {
      const s = loadSettings({ REDIS_CLUSTER_NODES: "rediss://gw:s%3Acret@a:6380,rediss://gw:s%3Acret@b" });
      expect(s.redis).toEqual({ cluster: [{ host: "a", port: 6380 }, { host: "b", port: 6379 }], tls: true, username: "gw", password: "s:cret" });
      expect(problemsOf({ REDIS_CLUSTER_NODES: "rediss://a:1,redis://b:2" })).toEqual(["REDIS_CLUSTER_NODES: every node URL must have the same scheme, user and password"]);
      expect(problemsOf({ REDIS_CLUSTER_NODES: "redis://a:1,b:2" })[0]).toMatch(/^REDIS_CLUSTER_NODES: write every node the same way/);
    });

    it("refuses nodes without a port, a database other than 0, or another scheme, never echoing a password", () => {
      for (const nodes of ["redis-1", "redis://:hunter2@a:1/2", "http://a:1", "a:port", " , "]) {
        const problems = problemsOf({ REDIS_CLUSTER_NODES: nodes });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^REDIS_CLUSTER_NODES: /);
        expect(problems[0]).not.toContain("hunter2");
      }
    });

    it("refuses REDIS_URL and REDIS_CLUSTER_NODES together", () => {
      expect(problemsOf({ REDIS_URL: "redis://r:6379", REDIS_CLUSTER_NODES: "a:7000" })).toEqual([
        "REDIS_CLUSTER_NODES: set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both",
      ]);
    });

    it("stands in for REDIS_URL in production", () => {
      const names = (env: NodeJS.ProcessEnv) => problemsOf({ NODE_ENV: "production", ...env }).map((p) => p.split(":")[0]);
      expect(names({})).toContain("REDIS_URL");
      expect(names({ REDIS_CLUSTER_NODES: "a:7000" })).not.toContain("REDIS_URL");
    });
  });

  it("refuses idle times a client in use would hit between two refreshes", () => {
    const problems = problemsOf({ SESSION_IDLE_TIMEOUT_SECONDS: "1200", AAL2_IDLE_SECONDS: "1700" });
    expect(problems.map((p) => p.split(":")[0])).toEqual(["SESSION_IDLE_TIMEOUT_SECONDS", "AAL2_IDLE_SECONDS"]);
    expect(problems[0]).toMatch(/twice ACCESS_TOKEN_TTL_SECONDS/);
  });

  it("refuses embedded defaults and a generated key in production, naming each", () => {
    const problems = problemsOf({ NODE_ENV: "production" });
    const names = problems.map((p) => p.split(":")[0]);
    expect(names).toEqual(
      expect.arrayContaining(["PUBLIC_URL", "DATABASE_URL", "REDIS_URL", "SMTP_URL", "JWT_PRIVATE_KEY", "TOTP_ENCRYPTION_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"]),
    );
  });

  it("does not ask for Twilio in production when SMS is off", () => {
    const names = problemsOf({ NODE_ENV: "production", SMS_ENABLED: "false" }).map((p) => p.split(":")[0]);
    expect(names).not.toContain("TWILIO_FROM");
  });

  it("wants the Twilio settings together", () => {
    expect(problemsOf({ TWILIO_FROM: "+15005550006" })[0]).toMatch(/TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN/);
  });

  it("takes origins, countries and flags", () => {
    const s = loadSettings({
      PUBLIC_URL: "https://auth.example.com/",
      ALLOWED_ORIGINS: "https://app.example.com, http://localhost:5173/",
      SMS_ALLOWED_COUNTRIES: "us,GB",
      TRUST_PROXY: "1",
    });
    expect(s.publicUrl).toBe("https://auth.example.com");
    expect(s.allowedOrigins).toEqual(["https://app.example.com", "http://localhost:5173"]);
    expect(s.sms.allowedCountries).toEqual(["US", "GB"]);
    expect(s.trustProxy).toBe(1);
  });

  describe("TRUST_PROXY", () => {
    it("takes a hop count or a list of proxy addresses and CIDRs, as Express does", () => {
      expect(loadSettings({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
      expect(loadSettings({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
      expect(loadSettings({ TRUST_PROXY: "0" }).trustProxy).toBe(false);
      expect(loadSettings({ TRUST_PROXY: "loopback, 10.0.0.0/8,fd00::/8" }).trustProxy).toEqual(["loopback", "10.0.0.0/8", "fd00::/8"]);
    });

    it("refuses true, which would believe addresses the client writes, and points to the hop count", () => {
      for (const v of ["true", "yes", "on"]) expect(problemsOf({ TRUST_PROXY: v })).toEqual([expect.stringMatching(/^TRUST_PROXY: .*TRUST_PROXY=1 behind one load balancer/)]);
    });

    it("refuses what is neither a hop count nor addresses", () => {
      expect(problemsOf({ TRUST_PROXY: "10.0.0.0/99" })[0]).toMatch(/^TRUST_PROXY: must be a hop count or a comma list/);
      expect(problemsOf({ TRUST_PROXY: "proxy.internal" })[0]).toMatch(/^TRUST_PROXY:/);
    });
  });

  it("listens on 127.0.0.1 unless HOST says otherwise", () => {
    expect(loadSettings({}).host).toBe("127.0.0.1");
    expect(loadSettings({ NODE_ENV: "development", HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    expect(problemsOf({ HOST: "0.0.0.0 --evil" })[0]).toMatch(/^HOST:/);
  });

  describe("never throws anything but the one list", () => {
    it.each([
      ["PUBLIC_URL", "foo"],
      ["PUBLIC_URL", "ftp://auth.example.com"],
      ["DATABASE_URL", "postgres//nohost"],
      ["REDIS_URL", "127.0.0.1:6379"],
      ["SMTP_URL", "::"],
      ["TWILIO_API_BASE_URL", "not a url"],
    ])("names %s=%s", (name, value) => {
      expect(problemsOf({ [name]: value })).toEqual([expect.stringMatching(new RegExp(`^${name}: (is not a URL: it )?must start with`))]);
    });

    it("does not echo a URL, which may hold a password", () => {
      const [problem] = problemsOf({ DATABASE_URL: "mysql://admin:hunter2@db/x" });
      expect(problem).toBe("DATABASE_URL: must start with postgres:// or postgresql://");
    });

    it("collects bad values and missing production settings in one list", () => {
      const names = problemsOf({ NODE_ENV: "production", PUBLIC_URL: "foo", SMS_ALLOWED_COUNTRIES: "UK" }).map((p) => p.split(":")[0]);
      expect(names).toEqual(expect.arrayContaining(["PUBLIC_URL", "SMS_ALLOWED_COUNTRIES", "DATABASE_URL", "JWT_PRIVATE_KEY", "TOTP_ENCRYPTION_KEY"]));
    });
  });

  describe("ALLOWED_ORIGINS", () => {
    it("refuses an origin without a scheme, which would parse as the scheme 'localhost:'", () => {
      expect(problemsOf({ ALLOWED_ORIGINS: "localhost:3000" })).toEqual([
        'ALLOWED_ORIGINS: "localhost:3000" has no scheme: write it as https://localhost:3000 (or http:// for local development)',
      ]);
      expect(problemsOf({ ALLOWED_ORIGINS: "https://ok.example, app.example.com" })).toEqual([expect.stringMatching(/^ALLOWED_ORIGINS: "app\.example\.com" has no scheme/)]);
    });

    it("refuses what is not an http(s) origin: another scheme, a path, a user, garbage", () => {
      for (const bad of ["ftp://files.example", "https://app.example.com/app", "https://app.example.com/?x=1", "https://u:p@app.example.com", "http://", "*"]) {
        expect(problemsOf({ ALLOWED_ORIGINS: bad })).toEqual([expect.stringMatching(/^ALLOWED_ORIGINS: "/)]);
      }
    });
  });

  describe("REDIRECT_URLS", () => {
    it("takes exact URLs on ALLOWED_ORIGINS, normalised; unset, it is empty (origin matching)", () => {
      const s = loadSettings({ ALLOWED_ORIGINS: "https://app.example.com", REDIRECT_URLS: "https://APP.example.com/auth/callback, https://app.example.com/done?from=link" });
      expect(s.redirectUrls).toEqual(["https://app.example.com/auth/callback", "https://app.example.com/done?from=link"]);
      expect(loadSettings({}).redirectUrls).toEqual([]);
    });

    it("refuses a URL off ALLOWED_ORIGINS, with a fragment or a user, or not absolute", () => {
      const origins = { ALLOWED_ORIGINS: "https://app.example.com" };
      expect(problemsOf({ ...origins, REDIRECT_URLS: "https://evil.example/cb" })).toEqual(["REDIRECT_URLS: https://evil.example/cb is not on an ALLOWED_ORIGINS origin"]);
      for (const bad of ["https://app.example.com/cb#x", "https://u:p@app.example.com/cb", "/cb", "ftp://app.example.com/cb"]) {
        expect(problemsOf({ ...origins, REDIRECT_URLS: bad })).toEqual([expect.stringMatching(/^REDIRECT_URLS: /)]);
      }
    });
  });

  describe("SMS_ALLOWED_COUNTRIES", () => {
    it("takes ISO 3166-1 alpha-2 codes in any case", () => {
      expect(loadSettings({ SMS_ALLOWED_COUNTRIES: "gb, US,de" }).sms.allowedCountries).toEqual(["GB", "US", "DE"]);
    });

    it("refuses codes that are not ISO 3166-1 alpha-2: UK is GB", () => {
      expect(problemsOf({ SMS_ALLOWED_COUNTRIES: "UK,US" })).toEqual([
        "SMS_ALLOWED_COUNTRIES: must be * or a comma list of ISO 3166-1 alpha-2 country codes; not one: UK (UK is GB)",
      ]);
      expect(problemsOf({ SMS_ALLOWED_COUNTRIES: "US,XX,QQ" })[0]).toMatch(/not one: XX, QQ$/);
      expect(problemsOf({ SMS_ALLOWED_COUNTRIES: "," })[0]).toMatch(/^SMS_ALLOWED_COUNTRIES:/);
    });
  });

  describe("JWT keys", () => {
    it("takes a P-256 private key, also on one line with \\n escapes", () => {
      expect(loadSettings({ JWT_PRIVATE_KEY: P256.privatePem }).jwt.privateKeyPem).toBe(P256.privatePem);
      expect(loadSettings({ JWT_PRIVATE_KEY: P256.privatePem.replace(/\n/g, "\\n") }).jwt.privateKeyPem).toBe(P256.privatePem);
    });

    it("refuses an RSA key, another curve, or garbage, without echoing the key", () => {
      expect(problemsOf({ JWT_PRIVATE_KEY: RSA.privatePem })).toEqual([expect.stringMatching(/^JWT_PRIVATE_KEY: is an RSA key; ES256 needs an EC P-256 \(prime256v1\) key/)]);
      expect(problemsOf({ JWT_PRIVATE_KEY: P384.privatePem })).toEqual([expect.stringMatching(/^JWT_PRIVATE_KEY: is an EC key on secp384r1; ES256 needs/)]);
      expect(problemsOf({ JWT_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----\nsecret-garbage\n-----END PRIVATE KEY-----" })).toEqual([
        "JWT_PRIVATE_KEY: is not a readable PEM private key (unencrypted PKCS#8 or SEC1)",
      ]);
      expect(problemsOf({ JWT_PRIVATE_KEY: P256.publicPem })[0]).toMatch(/^JWT_PRIVATE_KEY: is not a readable PEM private key/);
    });

    it("takes P-256 public keys in JWT_ADDITIONAL_PUBLIC_KEYS and refuses anything else in it", () => {
      const next = pemOf("ec", { namedCurve: "prime256v1" });
      expect(loadSettings({ JWT_ADDITIONAL_PUBLIC_KEYS: `${P256.publicPem}\n${next.publicPem}` }).jwt.additionalPublicKeys).toContain(next.publicPem);
      expect(problemsOf({ JWT_ADDITIONAL_PUBLIC_KEYS: `${P256.publicPem}${RSA.publicPem}` })).toEqual([expect.stringMatching(/^JWT_ADDITIONAL_PUBLIC_KEYS: key #2 is an RSA key/)]);
      // A private key pasted here is refused, not silently skipped.
      expect(problemsOf({ JWT_ADDITIONAL_PUBLIC_KEYS: `${P256.publicPem}${P256.privatePem}` })).toEqual([
        "JWT_ADDITIONAL_PUBLIC_KEYS: must hold only PEM public keys (-----BEGIN PUBLIC KEY----- blocks)",
      ]);
      expect(problemsOf({ JWT_ADDITIONAL_PUBLIC_KEYS: "-----BEGIN PUBLIC KEY-----\nxyz\n-----END PUBLIC KEY-----" })).toEqual([
        "JWT_ADDITIONAL_PUBLIC_KEYS: key #1 is not a readable PEM public key",
      ]);
    });
  });

  describe("TOTP_ENCRYPTION_KEY", () => {
    it("takes <id>:<base64 of 32 bytes>, and retired keys beside it", () => {
      const previous = `k0:${Buffer.alloc(32, 2).toString("base64")}`;
      expect(loadSettings({ TOTP_ENCRYPTION_KEY: TOTP_KEY, TOTP_ENCRYPTION_KEY_PREVIOUS: previous }).totp).toMatchObject({ encryptionKey: TOTP_KEY, previousEncryptionKeys: previous });
    });

    it("refuses a key of the wrong length or not base64, saying how to make one, without echoing it", () => {
      const [short] = problemsOf({ TOTP_ENCRYPTION_KEY: "k1:c2hvcnQ=" });
      expect(short).toMatch(/^TOTP_ENCRYPTION_KEY: Key 'k1' must be 32 bytes, got 5\. Make one with: echo "k1:\$\(openssl rand -base64 32\)"$/);
      expect(problemsOf({ TOTP_ENCRYPTION_KEY: "k1:not base64!" })[0]).toMatch(/^TOTP_ENCRYPTION_KEY: Key 'k1' is not base64/);
      expect(problemsOf({ TOTP_ENCRYPTION_KEY: "hunter2" })[0]).not.toContain("hunter2");
    });

    it("refuses a bad retired key, and a retired key with the current key's id", () => {
      expect(problemsOf({ TOTP_ENCRYPTION_KEY: TOTP_KEY, TOTP_ENCRYPTION_KEY_PREVIOUS: "k0:short" })[0]).toMatch(/^TOTP_ENCRYPTION_KEY_PREVIOUS: Key 'k0' must be 32 bytes/);
      expect(problemsOf({ TOTP_ENCRYPTION_KEY: TOTP_KEY, TOTP_ENCRYPTION_KEY_PREVIOUS: `k1:${Buffer.alloc(32, 3).toString("base64")}` })).toEqual([
        "TOTP_ENCRYPTION_KEY_PREVIOUS: Key id 'k1' is used twice. Give each key its own id.",
      ]);
      expect(problemsOf({ TOTP_ENCRYPTION_KEY: `${TOTP_KEY},${TOTP_KEY.replace("k1", "k2")}` })[0]).toMatch(/^TOTP_ENCRYPTION_KEY: one key/);
    });
  });

  it("retries an unreachable Postgres or Redis at start for 30 s by default, then exits", () => {
    expect(loadSettings({}).startupRetrySeconds).toBe(30);
    expect(loadSettings({ STARTUP_RETRY_SECONDS: "0" }).startupRetrySeconds).toBe(0);
    expect(problemsOf({ STARTUP_RETRY_SECONDS: "forever" })[0]).toMatch(/^STARTUP_RETRY_SECONDS/);
  });

  it("serves no metrics unless METRICS_PORT is set, then on 127.0.0.1 unless METRICS_HOST says otherwise", () => {
    expect(loadSettings({}).metrics).toBeUndefined();
    expect(loadSettings({ METRICS_PORT: "9464" }).metrics).toEqual({ port: 9464, host: "127.0.0.1" });
    expect(loadSettings({ METRICS_PORT: "9464", METRICS_HOST: "0.0.0.0" }).metrics).toEqual({ port: 9464, host: "0.0.0.0" });
    expect(problemsOf({ PORT: "4000", METRICS_PORT: "4000" })[0]).toMatch(/^METRICS_PORT: must differ from PORT/);
    expect(problemsOf({ METRICS_PORT: "70000" })[0]).toMatch(/^METRICS_PORT:/);
  });
});
