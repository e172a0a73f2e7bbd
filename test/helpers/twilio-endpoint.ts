import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./wait";

export interface TwilioRequest {
  kind: "message" | "call";
  path: string;
  accountSid: string;
  /** The form-encoded body, decoded. */
  form: Record<string, string>;
  /** From the Basic Authorization header; null when absent. */
  auth: { user: string; pass: string } | null;
  contentType: string | undefined;
  /** Set once the answer was sent. */
  status?: number;
}

/** One scripted answer; without `status` the request succeeds (201), after `delayMs`. */
export interface ScriptedAnswer {
  status?: number;
  /** Twilio error code in the JSON body, e.g. 21211. */
  code?: number;
  message?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface TwilioEndpoint extends EventEmitter {
  /** TWILIO_API_BASE_URL. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  requests: TwilioRequest[];
  /** The next requests get these answers, one each, in order; then plain 201s. */
  script(...answers: ScriptedAnswer[]): void;
  waitForRequests(count: number): Promise<TwilioRequest[]>;
  close(): Promise<void>;
}

const ROUTE = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/(Messages|Calls)\.json$/;

/**
 * A local HTTP server that speaks the part of Twilio's REST API we use: form-encoded
 * POSTs to Messages.json and Calls.json, Basic auth with the account SID and auth token,
 * answers and errors shaped like Twilio's. Emits "request" on arrival and "answered" after
 * the answer is written.
 */
export async function startTwilioEndpoint(): Promise<TwilioEndpoint> {
  const accountSid = `AC${randomBytes(16).toString("hex")}`;
  const authToken = randomBytes(16).toString("hex");
  const requests: TwilioRequest[] = [];
  const scripted: ScriptedAnswer[] = [];
  const endpoint = new EventEmitter() as TwilioEndpoint;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = ROUTE.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return send(res, 404, twilioError(20404, "The requested resource was not found", 404));
      const record: TwilioRequest = {
        kind: match[2] === "Messages" ? "message" : "call",
        path: req.url as string,
        accountSid: match[1],
        form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))),
        auth: basicAuth(req.headers.authorization),
        contentType: req.headers["content-type"],
      };
      requests.push(record);
      endpoint.emit("request", record);
      const answer = scripted.shift() ?? {};
      const [status, body] = respond(record, answer, { accountSid, authToken });
      setTimeout(() => {
        record.status = status;
        send(res, status, body, answer.headers);
        endpoint.emit("answered", record);
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return Object.assign(endpoint, {
    baseUrl: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    script: (...answers: ScriptedAnswer[]) => void scripted.push(...answers),
    waitForRequests: (count: number) => waitFor(() => requests.length >= count && requests.slice(0, count), `${count} Twilio request(s)`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function respond(req: TwilioRequest, answer: ScriptedAnswer, account: { accountSid: string; authToken: string }): [number, object] {
  // Twilio checks credentials first, then that the URL's account is the caller's.
  if (!req.auth || req.auth.user !== account.accountSid || req.auth.pass !== account.authToken) {
    return [401, twilioError(20003, "Authenticate", 401)];
  }
  if (req.accountSid !== account.accountSid) return [404, twilioError(20404, "The requested resource was not found", 404)];
  if (answer.status !== undefined && answer.status >= 400) {
    return [answer.status, twilioError(answer.code ?? 20000 + answer.status, answer.message ?? http.STATUS_CODES[answer.status] ?? "Error", answer.status)];
  }
  const missing = req.kind === "message" ? missingMessageField(req.form) : missingCallField(req.form);
  if (missing) return [400, twilioError(missing.code, missing.message, 400)];
  return [answer.status ?? 201, req.kind === "message" ? messageResource(req, account.accountSid) : callResource(req, account.accountSid)];
}

function missingMessageField(form: Record<string, string>): { code: number; message: string } | null {
  if (!form.To) return { code: 21604, message: "A 'To' phone number is required." };
  if (!form.From && !form.MessagingServiceSid) return { code: 21603, message: "A 'From' phone number is required." };
  if (!form.Body && !form.MediaUrl) return { code: 21602, message: "Message body is required." };
  return null;
}

function missingCallField(form: Record<string, string>): { code: number; message: string } | null {
  if (!form.To) return { code: 21201, message: "No 'To' number is specified" };
  if (!form.From) return { code: 21213, message: "No 'From' number is specified" };
  if (!form.Url && !form.Twiml && !form.ApplicationSid) return { code: 21205, message: "Url parameter is required." };
  return null;
}

function messageResource(req: TwilioRequest, accountSid: string): object {
  const sid = `SM${randomBytes(16).toString("hex")}`;
  const now = new Date().toUTCString();
  return {
    account_sid: accountSid,
    api_version: "2010-04-01",
    body: req.form.Body,
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: "outbound-api",
    error_code: null,
    error_message: null,
    from: req.form.From ?? null,
    messaging_service_sid: req.form.MessagingServiceSid ?? null,
    num_media: "0",
    num_segments: "1",
    price: null,
    price_unit: "USD",
    sid,
    status: "queued",
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
    to: req.form.To,
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
  };
}

function callResource(req: TwilioRequest, accountSid: string): object {
  const sid = `CA${randomBytes(16).toString("hex")}`;
  return {
    account_sid: accountSid,
    api_version: "2010-04-01",
    date_created: null,
    direction: "outbound-api",
    from: req.form.From,
    from_formatted: req.form.From,
    sid,
    status: "queued",
    to: req.form.To,
    to_formatted: req.form.To,
    uri: `/2010-04-01/Accounts/${accountSid}/Calls/${sid}.json`,
  };
}

function twilioError(code: number, message: string, status: number): object {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function basicAuth(header: string | undefined): { user: string; pass: string } | null {
  const m = /^Basic (.+)$/i.exec(header ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

function send(res: http.ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  if (res.destroyed) return; // the client gave up (a timeout test)
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
}
