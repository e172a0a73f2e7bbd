import { z } from "zod";
import { commaList, displayName, flag, int, isOff } from "../../config/fields";
import { settingsSection, variable, type RawEnv, type SectionValue } from "../../config/section";

/** A host name as WebAuthn takes an rpId: lower-case labels, no scheme, port or path. */
const rpIdType = z
  .string()
  .regex(/^(?=.{1,253}$)[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?)*$/, "must be a host name such as example.com (no scheme, port or path)");

/** Each entry an origin, scheme://host[:port], as browsers write it into clientDataJSON. */
const originList = commaList.superRefine((list, ctx) => {
  for (const entry of list) {
    const u = URL.canParse(entry) ? new URL(entry) : null;
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:") || u.origin !== entry.replace(/\/$/, "")) {
      ctx.addIssue({ code: "custom", message: `"${entry}" must be an origin, scheme://host[:port] (http or https, no path)` });
    }
  }
});

/** Passkeys (PASSKEY_*): the relying party browsers bind every credential to. */
export const passkeySettings = settingsSection(
  {
    enabled: variable("PASSKEY_ENABLED", flag(true)),
    /** The domain credentials are bound to; unset: PUBLIC_URL's host name. Changing it later orphans every passkey. */
    rpId: variable("PASSKEY_RP_ID", rpIdType.optional()),
    /** Shown by the browser and the authenticator; unset: APP_NAME. */
    rpName: variable("PASSKEY_RP_NAME", displayName.optional()),
    /** Pages that may run the ceremonies; unset: PUBLIC_URL's origin and ALLOWED_ORIGINS. */
    origins: variable("PASSKEY_ORIGINS", originList),
    /** How long the browser waits and a challenge lives. */
    timeoutSeconds: variable("PASSKEY_TIMEOUT_SECONDS", int(300, 30, 600)),
    /** "direct" asks authenticators for attestation (stored nowhere yet; for operators who inspect AAGUIDs). */
    attestation: variable("PASSKEY_ATTESTATION", z.enum(["none", "direct"]).default("none")),
  },
  {
    // The defaults come from spine settings, so the rpId/origin rule reads the environment as given.
    // A malformed rpId is reported by its own variable only.
    given: (env) => (isOff(env.PASSKEY_ENABLED) || !rpIdType.optional().safeParse(env.PASSKEY_RP_ID).success ? [] : relyingPartyProblems(relyingPartyFromEnv(env))),
  },
);
export type PasskeySettings = SectionValue<typeof passkeySettings>;

/** The relying party as the ceremonies use it, with every default filled in. */
export interface RelyingParty {
  rpId: string;
  rpName: string;
  origins: string[];
}

/**
 * The section's values over the spine's (PUBLIC_URL, ALLOWED_ORIGINS, APP_NAME). Unset
 * PASSKEY_ORIGINS: PUBLIC_URL's origin and those ALLOWED_ORIGINS a browser would accept for
 * the rpId (a CORS origin on another domain is no error: it just cannot use passkeys).
 */
export function relyingParty(s: PasskeySettings, spine: { publicUrl: string; allowedOrigins: string[]; appName: string }): RelyingParty {
  const rpId = s.rpId ?? new URL(spine.publicUrl).hostname;
  const origins = s.origins.length ? s.origins : [spine.publicUrl, ...spine.allowedOrigins.filter((o) => covers(rpId, o))];
  return { rpId, rpName: s.rpName ?? spine.appName, origins: [...new Set(origins.map((o) => new URL(o).origin))] };
}

/** The same from the raw environment, for the start-up check (malformed values are reported by their own sections). */
function relyingPartyFromEnv(env: RawEnv): { rpId: string; origins: string[] } {
  // Only well-formed origins: the others are reported by their own variable.
  const urls = (v: string | undefined) => (v ?? "").split(",").map((s) => s.trim()).filter((s) => URL.canParse(s) && new URL(s).origin === s.replace(/\/$/, ""));
  // The spine's default PUBLIC_URL is http://localhost:PORT: only its host matters here.
  const publicUrl = env.PUBLIC_URL && URL.canParse(env.PUBLIC_URL) ? env.PUBLIC_URL : "http://localhost";
  const given = urls(env.PASSKEY_ORIGINS);
  return { rpId: env.PASSKEY_RP_ID ?? new URL(publicUrl).hostname, origins: given.length ? given : [publicUrl] };
}

/** WebAuthn §5.1.3: a page may use an rpId equal to its host or a registrable suffix of it. */
const covers = (rpId: string, origin: string): boolean => {
  const host = new URL(origin).hostname;
  return host === rpId || host.endsWith(`.${rpId}`);
};

/** A browser refuses a ceremony on an origin the rpId does not cover: such an origin could never work. */
export function relyingPartyProblems({ rpId, origins }: { rpId: string; origins: string[] }): string[] {
  return origins
    .filter((o) => !covers(rpId, o))
    .map((o) => `PASSKEY_RP_ID: "${rpId}" does not cover the origin ${new URL(o).origin} (its host must be ${rpId} or a subdomain of it; set PASSKEY_RP_ID or PASSKEY_ORIGINS)`);
}
