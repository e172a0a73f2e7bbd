import { getCountries } from "libphonenumber-js/max";
import { z } from "zod";
import { flag, int, isOff, urlWith } from "../../config/fields";
import { missingInProduction, settingsSection, variable, type SectionValue } from "../../config/section";

/** One-time codes by email, SMS or voice (OTP_*). */
export const otpSettings = settingsSection({
  length: variable("OTP_LENGTH", int(6, 6, 10)),
  ttlSeconds: variable("OTP_TTL_SECONDS", int(300, 30, 3600)),
  maxAttempts: variable("OTP_MAX_ATTEMPTS", int(5, 1, 20)),
  /** SIGN_IN creates the account on first success. */
  signUp: variable("OTP_SIGNUP", flag(true)),
  resendCooldownSeconds: variable("OTP_RESEND_COOLDOWN_SECONDS", int(60, 0, 3600)),
  limits: {
    perDestination: { max: variable("OTP_MAX_PER_DESTINATION_PER_HOUR", int(5, 1, 1000)), windowSeconds: 3600 },
    perIp: { max: variable("OTP_MAX_REQUESTS_PER_IP_PER_HOUR", int(30, 1, 100000)), windowSeconds: 3600 },
    /** Failed verifications per destination across challenges before a temporary lock. */
    failedPerDestination: {
      max: variable("OTP_MAX_FAILED_VERIFICATIONS", int(10, 1, 1000)),
      windowSeconds: variable("OTP_FAILED_VERIFICATION_WINDOW_SECONDS", int(1800, 60, 86400)),
    },
  },
});
export type OtpSettings = SectionValue<typeof otpSettings>;

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

const TWILIO = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"] as const;

/** The SMS and voice channel: Twilio, where codes may go, and the guard against SMS pumping. */
export const smsSettings = settingsSection(
  {
    enabled: variable("SMS_ENABLED", flag(true)),
    twilio: {
      accountSid: variable("TWILIO_ACCOUNT_SID", z.string().regex(/^AC[0-9a-fA-F]{32}$/, "must be AC followed by 32 hex digits").optional()),
      authToken: variable("TWILIO_AUTH_TOKEN", z.string().min(1).optional()),
      from: variable("TWILIO_FROM", z.string().min(1).optional()),
      apiBaseUrl: variable("TWILIO_API_BASE_URL", urlWith(["http:", "https:"])),
    },
    /** ISO 3166-1 alpha-2 codes, or "*" for any. */
    allowedCountries: variable("SMS_ALLOWED_COUNTRIES", z.string().default("*").transform(countriesOf)),
    /**
     * Limits against SMS pumping (toll fraud): bots asking for codes to premium-rate
     * numbers, paid per message by the gateway and never verified. SMS and voice alike.
     */
    guard: {
      /** Admitted SMS per destination country per UTC day. */
      dailyBudgetPerCountry: variable("SMS_DAILY_BUDGET_PER_COUNTRY", int(1000, 1, 10_000_000)),
      /** Admitted SMS per number block: pumping rings cycle through consecutive numbers. */
      prefixVelocity: {
        max: variable("SMS_PREFIX_VELOCITY_MAX", int(10, 1, 100_000)),
        windowSeconds: variable("SMS_PREFIX_VELOCITY_WINDOW_SECONDS", int(3600, 60, 86400)),
      },
      /** Digits dropped from the end of an E.164 number to name its block (4: 10,000 numbers, the unit pumping rings cycle through). */
      prefixDigits: 4,
      /**
       * Pauses a country when, in one window, at least `minSamples` codes went out and at least
       * `unverifiedRatio` of them were never verified. Each source block (the /24 or /64 that
       * asked) adds at most `maxSamplesPerSource` samples, and as many verifications, so a
       * handful of sources cannot pause a country for everyone: it takes
       * minSamples / maxSamplesPerSource distinct blocks (by default ten distinct networks).
       */
      breaker: {
        minSamples: variable("SMS_BREAKER_MIN_SAMPLES", int(50, 1, 1_000_000)),
        unverifiedRatio: variable("SMS_BREAKER_UNVERIFIED_RATIO", z.coerce.number().gt(0).max(1).default(0.9)),
        windowSeconds: variable("SMS_BREAKER_WINDOW_SECONDS", int(3600, 60, 86400)),
        pauseSeconds: variable("SMS_BREAKER_PAUSE_SECONDS", int(3600, 60, 604800)),
        maxSamplesPerSource: variable("SMS_BREAKER_MAX_SAMPLES_PER_SOURCE", int(5, 1, 1_000_000)),
      },
    },
  },
  {
    // Twilio exists only with all three of its settings.
    finish: ({ twilio: { accountSid, authToken, from, apiBaseUrl }, ...rest }) => ({
      ...rest,
      twilio: accountSid && authToken && from ? { accountSid, authToken, from, apiBaseUrl } : undefined,
    }),
    given: (env, production) => {
      const given = TWILIO.filter((k) => env[k] !== undefined);
      const problems: string[] = [];
      if (given.length > 0 && given.length < TWILIO.length) problems.push(`${TWILIO.filter((k) => env[k] === undefined).join(", ")}: required together with ${given.join(", ")}`);
      if (production && !isOff(env.SMS_ENABLED)) problems.push(...missingInProduction(env, Object.fromEntries(TWILIO.map((k) => [k, "for SMS (or set SMS_ENABLED=false)"]))));
      return problems;
    },
  },
);
export type SmsSettings = SectionValue<typeof smsSettings>;
