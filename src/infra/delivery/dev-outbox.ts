import { randomUUID } from "node:crypto";
import type { OutgoingMessage } from "../../core/ports";
import type { Logger } from "../log/logger";
import type { Sender } from "./sender";

/** A message as the outbox keeps it: what would have been sent, and when. */
export type OutboxEntry = OutgoingMessage & {
  id: string;
  /** ISO 8601. */
  sentAt: string;
};

/**
 * Stands in for SMTP and Twilio in development: keeps the last messages in memory for
 * `GET /dev/outbox` and prints each one, code included, since that is how a developer
 * signs in without a mail server. Never used in production (settings refuse to start).
 */
export class DevOutbox implements Sender {
  readonly name = "dev-outbox";
  private readonly entries: OutboxEntry[] = [];

  constructor(
    private readonly log: Logger,
    private readonly capacity = 100,
  ) {}

  async send(message: OutgoingMessage): Promise<void> {
    const entry: OutboxEntry = {
      id: randomUUID(),
      sentAt: new Date().toISOString(),
      channel: message.channel,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      purpose: message.purpose,
      userId: message.userId ?? null,
    };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    const subject = entry.subject ? ` "${entry.subject}"` : "";
    this.log.info({ outbox: entry.id, channel: entry.channel, purpose: entry.purpose }, `dev outbox: ${entry.channel} to ${entry.to}${subject}: ${oneLine(entry.text)}`);
  }

  /** Newest first. */
  list(): OutboxEntry[] {
    return this.entries.slice().reverse();
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, " / ").trim();
}
