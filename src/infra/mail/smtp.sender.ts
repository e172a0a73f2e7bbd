import nodemailer, { type Transporter } from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool";
import type { OutgoingMessage } from "../../core/ports";
import { DeliveryError, networkDeliveryError, toDeliveryError } from "../delivery/delivery.error";
import type { Sender } from "../delivery/sender";

export interface SmtpSenderOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. */
  url: string;
  /** The From address (MAIL_FROM). */
  from: string;
  /**
   * How long to wait for the TCP connection, for the server's greeting, and for any
   * reply once connected. Nodemailer waits minutes by default; a stuck server should
   * fail the attempt fast and leave the retry to the queue.
   */
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
  /** Pooled connections kept open to the server. */
  maxConnections?: number;
}

/** Email over SMTP with nodemailer, through a pool of reused connections. */
export class SmtpSender implements Sender {
  readonly name = "smtp";
  private readonly transport: Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;
  private readonly from: string;

  constructor(options: SmtpSenderOptions) {
    this.from = options.from;
    this.transport = nodemailer.createTransport({
      url: options.url,
      pool: true,
      maxConnections: options.maxConnections ?? 5,
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      greetingTimeout: options.greetingTimeoutMs ?? 10_000,
      socketTimeout: options.socketTimeoutMs ?? 30_000,
    });
  }

  async send(message: OutgoingMessage): Promise<void> {
    if (message.channel !== "email") throw new DeliveryError(`the SMTP sender cannot send ${message.channel}`, { retryable: false });
    try {
      await this.transport.sendMail({ from: this.from, to: message.to, subject: message.subject ?? "", text: message.text, html: message.html });
    } catch (error) {
      throw smtpDeliveryError(error);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** Failures that say nothing about the message and may pass on the next connection. */
const TRANSIENT_NODEMAILER_CODES = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "EPROTOCOL", "EMAXLIMIT"]);

/**
 * SMTP's own split (RFC 5321 §4.2.1): a 4xx reply is a transient refusal (greylisting,
 * mailbox busy, rate limits), a 5xx reply is final. Without a reply, connection trouble
 * is retried; a bad login, envelope or configuration is not.
 */
export function smtpDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const e = (error ?? {}) as { code?: unknown; responseCode?: unknown; command?: unknown };
  if (typeof e.responseCode === "number") {
    const at = typeof e.command === "string" ? ` at ${e.command}` : "";
    return new DeliveryError(`SMTP ${e.responseCode}${at}`, { retryable: e.responseCode < 500, status: e.responseCode, cause: error });
  }
  if (typeof e.code === "string" && TRANSIENT_NODEMAILER_CODES.has(e.code)) {
    return new DeliveryError(`SMTP ${e.code === "ETIMEDOUT" ? "timeout" : "connection error"} (${e.code})`, { retryable: true, cause: error });
  }
  if (typeof e.code === "string" && /^E[A-Z0-9]+$/.test(e.code) && !networkDeliveryError(error)) {
    return new DeliveryError(`SMTP error (${e.code})`, { retryable: false, cause: error });
  }
  return toDeliveryError(error);
}
