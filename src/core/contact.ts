import { z } from "zod";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { badInput } from "./errors";

const emailShape = z.email();

/**
 * Trims and lower-cases an email (the whole address, as Supabase Auth and Better Auth do,
 * so `Ann@x.com` and `ann@x.com` are one account); BAD_USER_INPUT naming `field` otherwise.
 */
export function normalizeEmail(raw: string, field = "email"): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !emailShape.safeParse(email).success) throw badInput(field, "Enter a valid email address.");
  return email;
}

/** Parses an international number to E.164 (`+447911123456`); BAD_USER_INPUT naming `field` otherwise. */
export function normalizePhone(raw: string, field = "phone"): { e164: string; country: string | undefined } {
  const parsed = parsePhoneNumberFromString(raw.trim());
  if (!parsed || !parsed.isValid()) {
    throw badInput(field, "Enter a phone number in international format, e.g. +447911123456.");
  }
  return { e164: parsed.number, country: parsed.country };
}
