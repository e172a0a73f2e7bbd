import { z } from "zod";

/** zod types the settings sections share: every value arrives as a string from the environment. */

export const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes", "on"].includes(v)));

/** What `flag` reads as false: a rule about what was given can ask before parsing. */
export const isOff = (v: string | undefined) => ["false", "0", "no", "off"].includes(v ?? "");

export const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const commaList = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean));

// The value is never echoed: URLs carry passwords.
export const urlWith = (protocols: string[]) => {
  const schemes = protocols.map((p) => `${p}//`).join(" or ");
  return z
    .string()
    .superRefine((u, ctx) => {
      if (!URL.canParse(u)) ctx.addIssue({ code: "custom", message: `is not a URL: it must start with ${schemes}` });
      else if (!protocols.includes(new URL(u).protocol)) ctx.addIssue({ code: "custom", message: `must start with ${schemes}` });
    })
    .optional();
};

/** Names shown to people (an app, an authenticator's issuer): "<issuer>:<account>" labels forbid colons. */
export const displayName = z.string().min(1).max(60).refine((v) => !v.includes(":"), "must not contain a colon");
