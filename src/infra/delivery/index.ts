import type { Settings } from "../../config/settings";
import { SmtpSender } from "../mail/smtp.sender";
import { createTwilioSenders } from "../sms/twilio.sender";
import { DevOutbox } from "./dev-outbox";
import { createDeliveryQueue, type BullDeliveryQueue, type DeliveryQueueOptions, type InProcessDeliveryQueue } from "./queue";
import type { ChannelSenders, Sender } from "./sender";

export { DeliveryError, parseRetryAfter } from "./delivery.error";
export { DevOutbox, type OutboxEntry } from "./dev-outbox";
export { devOutboxRouter } from "./dev-outbox.router";
export { BullDeliveryQueue, InProcessDeliveryQueue, createDeliveryQueue, type DeliveryQueueOptions } from "./queue";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-policy";
export { CHANNELS, ChannelDisabledError, type Channel, type ChannelSenders, type Sender } from "./sender";

/** The queue's options but the senders, which createDelivery picks from the settings. */
export type DeliveryDeps = Omit<DeliveryQueueOptions, "senders" | "random" | "connectWaitMs">;

export interface Delivery {
  queue: BullDeliveryQueue | InProcessDeliveryQueue;
  /** Present when some channel has no provider configured; serve it with devOutboxRouter. */
  outbox?: DevOutbox;
  /** Stops the queue (sends in flight finish), then the providers' connections. */
  close(): Promise<void>;
}

/**
 * Picks each channel's sender from the settings: SMTP or the development outbox for
 * email; Twilio or the outbox for SMS and voice, or none when SMS_ENABLED=false (the
 * queue then refuses those messages at enqueue).
 */
export function createDelivery(settings: Pick<Settings, "mail" | "sms">, deps: DeliveryDeps): Delivery {
  let outbox: DevOutbox | undefined;
  const devOutbox = (): DevOutbox => (outbox ??= new DevOutbox(deps.log));

  const senders: ChannelSenders = {
    email: settings.mail.smtpUrl ? new SmtpSender({ url: settings.mail.smtpUrl, from: settings.mail.from }) : devOutbox(),
  };
  if (settings.sms.enabled) {
    const twilio = settings.sms.twilio;
    Object.assign(senders, twilio ? createTwilioSenders(twilio) : { sms: devOutbox(), voice: devOutbox() });
  }

  const queue = createDeliveryQueue({ ...deps, senders });
  deps.log.info(
    queue.kind === "bullmq"
      ? "delivery: BullMQ queue in Redis (retries survive restarts)"
      : "delivery: in-process queue (no Redis: unsent messages are lost on restart)",
  );

  return {
    queue,
    outbox,
    async close() {
      await queue.close();
      const distinct = new Set(Object.values(senders).filter((s): s is Sender => s !== undefined));
      await Promise.all([...distinct].map((s) => s.close?.()));
    },
  };
}
