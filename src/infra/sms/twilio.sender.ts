import twilio from "twilio";
import type { OutgoingMessage } from "../../core/ports";
import { DeliveryError, httpDeliveryError, toDeliveryError } from "../delivery/delivery.error";
import type { Sender } from "../delivery/sender";
import { TwilioApiError, TwilioHttpClient } from "./twilio.http-client";
import { codeReadingTwiml } from "./voice.twiml";

export interface TwilioSenderOptions {
  accountSid: string;
  authToken: string;
  /** The number messages and calls come from (TWILIO_FROM), E.164. */
  from: string;
  /** TWILIO_API_BASE_URL; Twilio's own when unset. */
  apiBaseUrl?: string;
  /** Per request; the queue retries a timed-out send. */
  timeoutMs?: number;
}

/** SMS (Messages API) and voice calls (Calls API) through one `twilio` SDK client. */
export function createTwilioSenders(options: TwilioSenderOptions): { sms: Sender; voice: Sender } {
  const client = twilio(options.accountSid, options.authToken, {
    httpClient: new TwilioHttpClient({ baseUrl: options.apiBaseUrl, timeoutMs: options.timeoutMs }),
  });
  const sms: Sender = {
    name: "twilio",
    async send(message: OutgoingMessage) {
      expectChannel(message, "sms");
      await call(() => client.messages.create({ to: message.to, from: options.from, body: message.text }));
    },
  };
  const voice: Sender = {
    name: "twilio",
    async send(message: OutgoingMessage) {
      expectChannel(message, "voice");
      await call(() => client.calls.create({ to: message.to, from: options.from, twiml: codeReadingTwiml(message.text) }));
    },
  };
  return { sms, voice };
}

function expectChannel(message: OutgoingMessage, channel: "sms" | "voice"): void {
  if (message.channel !== channel) throw new DeliveryError(`the Twilio ${channel} sender cannot send ${message.channel}`, { retryable: false });
}

async function call(request: () => Promise<unknown>): Promise<void> {
  try {
    await request();
  } catch (error) {
    throw twilioDeliveryError(error);
  }
}

/** HTTP rules (429 and 5xx retried, Retry-After honoured, other 4xx final), with Twilio's code in the reason. */
export function twilioDeliveryError(error: unknown): DeliveryError {
  if (error instanceof TwilioApiError) {
    const reason = error.code === undefined ? `Twilio HTTP ${error.status}` : `Twilio error ${error.code} (HTTP ${error.status})`;
    return httpDeliveryError(error.status, { reason, retryAfter: error.retryAfter, cause: error });
  }
  // The SDK's RestException, should another path raise one: a status, no headers.
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === "number" && status >= 400) return httpDeliveryError(status, { reason: `Twilio HTTP ${status}`, cause: error });
  return toDeliveryError(error);
}
