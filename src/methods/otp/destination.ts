import { normalizeEmail, normalizePhone } from "../../core/contact";
import { badInput } from "../../core/errors";

export type Channel = "EMAIL" | "SMS" | "VOICE";

/** SMS and voice both reach a phone number, and share its limits and budget. */
export const isPhoneChannel = (channel: Channel): boolean => channel !== "EMAIL";

/** A checked destination: a lower-cased email or an E.164 number with its country. */
export interface Destination {
  channel: Channel;
  address: string;
  country?: string;
}

/** Parses what the client typed for `channel`; BAD_USER_INPUT naming `destination` otherwise. */
export function parseDestination(channel: Channel, raw: string | null | undefined): Destination {
  if (!raw || !raw.trim()) throw badInput("destination", channel === "EMAIL" ? "Enter an email address." : "Enter a phone number.");
  if (channel === "EMAIL") return { channel, address: normalizeEmail(raw, "destination") };
  const { e164, country } = normalizePhone(raw, "destination");
  return { channel, address: e164, country };
}

/** j***@example.com, +44******456: enough to recognise, not enough to learn. */
export function maskDestination(d: Pick<Destination, "channel" | "address">): string {
  if (!isPhoneChannel(d.channel)) {
    const [local, domain] = d.address.split("@");
    return `${local.slice(0, 1)}***@${domain}`;
  }
  const digits = d.address.slice(1);
  const keepStart = Math.min(2, digits.length);
  const keepEnd = 3;
  return `+${digits.slice(0, keepStart)}${"*".repeat(Math.max(0, digits.length - keepStart - keepEnd))}${digits.slice(-keepEnd)}`;
}
