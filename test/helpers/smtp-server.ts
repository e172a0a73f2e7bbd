import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { waitFor } from "./wait";

export interface CapturedMail {
  /** Envelope sender and recipients (MAIL FROM / RCPT TO). */
  envelopeFrom: string;
  envelopeTo: string[];
  /** Parsed headers and bodies. */
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The user that logged in with AUTH. */
  user?: string;
}

export interface TestSmtpServer {
  /** SMTP_URL, credentials included. */
  url: string;
  messages: CapturedMail[];
  /** RCPT TO commands seen, accepted or not: one per delivery attempt of a one-recipient mail. */
  readonly recipientAttempts: number;
  /** RCPT TO commands seen for `address`, accepted or not. */
  attemptsFor(address: string): number;
  /** Answers the next `count` RCPT TO with `code` (e.g. 451 transient, 550 permanent). */
  rejectNext(count: number, code: number, text?: string): void;
  /** An outage: every RCPT TO is answered with `code` until `recover()`. */
  refuseAll(code: number, text?: string): void;
  recover(): void;
  waitForMessages(count: number): Promise<CapturedMail[]>;
  close(): Promise<void>;
}

/**
 * A real SMTP server (the `smtp-server` package) on a free port, requiring AUTH like a
 * relay would, that keeps what it receives. STARTTLS is off: tests speak plain SMTP.
 */
export async function startSmtpServer(credentials = { user: "mailer", pass: "mail-secret" }): Promise<TestSmtpServer> {
  const messages: CapturedMail[] = [];
  let recipientAttempts = 0;
  const recipients: string[] = [];
  const rejections: Array<{ code: number; text: string }> = [];
  let outage: { code: number; text: string } | null = null;

  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass) return callback(null, { user: auth.username });
      callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      recipientAttempts++;
      recipients.push(address.address);
      const rejection = rejections.shift() ?? outage;
      if (rejection) return callback(Object.assign(new Error(rejection.text), { responseCode: rejection.code }));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push({
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            from: mail.from?.text ?? "",
            to: Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(", ") : (mail.to?.text ?? ""),
            subject: mail.subject ?? "",
            text: mail.text ?? "",
            html: typeof mail.html === "string" ? mail.html : "",
            user: typeof session.user === "string" ? session.user : undefined,
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://${credentials.user}:${credentials.pass}@127.0.0.1:${port}`,
    messages,
    get recipientAttempts() {
      return recipientAttempts;
    },
    attemptsFor: (address) => recipients.filter((r) => r === address).length,
    rejectNext(count, code, text = code < 500 ? "Try again later" : "Mailbox unavailable") {
      for (let i = 0; i < count; i++) rejections.push({ code, text });
    },
    refuseAll(code, text = code < 500 ? "Try again later" : "Mailbox unavailable") {
      outage = { code, text };
    },
    recover() {
      outage = null;
    },
    waitForMessages: (count) => waitFor(() => messages.length >= count && messages.slice(0, count), `${count} email(s)`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
