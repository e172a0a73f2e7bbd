import { loadSettings, SettingsError } from "./settings";

const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadSettings(env);
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
  throw new Error("expected a SettingsError");
};

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
      JWT_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----",
      TOTP_ENCRYPTION_KEY: "k1:AAAA",
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
});
