import type { OutgoingMessage } from "../../core/ports";

export type Channel = OutgoingMessage["channel"];

export const CHANNELS: readonly Channel[] = ["email", "sms", "voice"];

/**
 * One way of getting a message to a person (SMTP, Twilio, the development outbox).
 * `send` resolves once the provider accepted the message and otherwise throws a
 * `DeliveryError`, whose `retryable` tells the queue whether trying again can help.
 */
export interface Sender {
  /** Names the transport in logs and audit details: "smtp", "twilio", "dev-outbox". */
  readonly name: string;
  send(message: OutgoingMessage): Promise<void>;
  /** Releases pooled connections; the queue calls it after its workers stopped. */
  close?(): Promise<void>;
}

/** The sender of each channel; a channel without one is turned off (e.g. SMS_ENABLED=false). */
export type ChannelSenders = { [C in Channel]?: Sender };

/** Thrown by `enqueue` for a channel this gateway does not send on. */
export class ChannelDisabledError extends Error {
  constructor(readonly channel: Channel) {
    super(`${channel} messages are turned off on this gateway${channel === "email" ? "" : " (SMS_ENABLED=false)"}; nothing was queued`);
    this.name = "ChannelDisabledError";
  }
}
