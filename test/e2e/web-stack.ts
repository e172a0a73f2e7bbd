import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { findChromium } from "./chromium";
import { createTestDatabaseUrl, type EmptyPostgresDatabase } from "../helpers/database";
import { freePort } from "../helpers/ports";
import { deleteKeysUnder } from "../helpers/redis-keyspace";
import { ROOT, startGatewayProcess, type GatewayProcess } from "../helpers/process";
import { startSmtpServer, type CapturedMail, type TestSmtpServer } from "../helpers/smtp-server";
import { providerSettings } from "../helpers/providers";
import { startTwilioEndpoint, type TwilioEndpoint } from "../helpers/twilio-endpoint";
import { sleep, waitFor } from "../helpers/wait";

export const SCREENSHOTS = path.join(ROOT, "test-output/e2e");

/**
 * The whole product as a user runs it: the gateway process (`node dist/src/main.js`, as
 * `npm start` runs it) with real SMTP and a Twilio-compatible endpoint, the production build
 * of the example app served by `npm run web:preview`, and headless Chromium.
 */
let emails = 0;
/** An address no other scenario of the run uses. */
export const newEmail = (what: string): string => `${what}-${Date.now()}-${++emails}@example.com`;

export interface WebStack {
  /** Where the browser opens the app. */
  appUrl: string;
  gateway: GatewayProcess;
  smtp: TestSmtpServer;
  twilio: TwilioEndpoint;
  /** A new browser profile (cookies and all): one per device in a scenario. */
  newDevice(): Promise<{ context: BrowserContext; page: Page }>;
  /** The newest mail to `to` received after `after` mails to anyone were already there. */
  mailTo(to: string, after?: number): Promise<CapturedMail>;
  /** The newest SMS body sent to `to`. */
  smsTo(to: string, after?: number): Promise<string>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/** Headless Chromium (see findChromium); a launch failure says which binary and what to set. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await findChromium();
  try {
    return await chromium.launch({
      executablePath,
      // Our own flags, not @sparticuz/chromium's serverless ones (--single-process,
      // --disable-web-security would change what the tests check). Without the network
      // ones Chromium keeps trying Google's hosts from a closed network.
      args: ["--no-sandbox", "--no-zygote", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  } catch (error) {
    throw new Error(`Chromium at ${executablePath} did not start (set CHROMIUM_PATH to another Chromium or Chrome): ${(error as Error).message}`);
  }
}

/** `npm run <script>` from the repo (a name, or the name and its arguments), in a process group of its own (npm → its children, stopped together). */
export function startScript(script: string | string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn("npm", ["run", ...[script].flat()], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  return { child, output: () => output };
}

/** Waits until `url` answers 200; fails with the script's output if it exits or takes a minute. */
export async function untilServing(script: { child: ChildProcess; output: () => string }, url: string): Promise<void> {
  const answered = async () => (await fetch(url).then((r) => r.ok, () => false)) && "up";
  const state = await waitFor(async () => (script.child.exitCode !== null ? "exited" : answered()), url, 60_000).catch(() => "timed out");
  if (state !== "up") throw new Error(`${url}: ${state} before answering:\n${script.output()}`);
}

export interface WebStackOptions {
  /**
   * More gateway settings, made once its address is known (PUBLIC_URL, e.g. for the callback
   * URL a test OpenID provider must have registered before the gateway starts).
   */
  gatewaySettings?: (publicUrl: string) => Promise<Record<string, string>> | Record<string, string>;
}

export async function startWebStack(options: WebStackOptions = {}): Promise<WebStack> {
  await findChromium(); // before minutes of building: no browser, no point
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  };
  try {

    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const twilio = await startTwilioEndpoint();
    cleanups.push(() => twilio.close());

    const [gatewayPort, webPort] = [await freePort(), await freePort()];
    // localhost, not 127.0.0.1: WebAuthn wants a domain for the relying party (an IP address is refused).
    const appUrl = `http://localhost:${webPort}`;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-e2e-"));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    // The production build (`npm run web:build`, as the README has it), into this stack's own
    // directory: test files start stacks side by side, and one build must not clear another's.
    const webDist = path.join(dataDir, "web");
    await run("npm", ["run", "build", "--workspace", "examples/web", "--", "--outDir", webDist, "--emptyOutDir"], { ...process.env });
    const pg: EmptyPostgresDatabase | undefined = await createTestDatabaseUrl();
    if (pg) cleanups.push(() => pg.drop());

    const redisPrefix = `e2e-${randomBytes(4).toString("hex")}:`;
    if (process.env.REDIS_URL) cleanups.push(() => deleteKeysUnder(process.env.REDIS_URL!, redisPrefix));
    const publicUrl = `http://127.0.0.1:${gatewayPort}`;
    const extraSettings = (await options.gatewaySettings?.(publicUrl)) ?? {};
    const gateway = await startGatewayProcess({
      PORT: String(gatewayPort),
      PUBLIC_URL: publicUrl,
      DATA_DIR: dataDir,
      ...(pg && { DATABASE_URL: pg.url }),
      ...(process.env.REDIS_URL && { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: redisPrefix }),
      ...providerSettings(smtp, twilio, { mailFrom: "auth@example.test" }),
      REFRESH_TOKEN_COOKIE: "true",
      ALLOWED_ORIGINS: appUrl,
      // The app's origin is the page the passkeys belong to; the gateway's own host differs here.
      PASSKEY_RP_ID: "localhost",
      PASSKEY_ORIGINS: appUrl,
      APP_NAME: "Example App",
      ...extraSettings,
    });
    cleanups.push(async () => {
      gateway.child.kill("SIGTERM");
      await gateway.exited;
    });

    const preview = startScript(["preview", "--workspace", "examples/web", "--", "--outDir", webDist], { ...process.env, WEB_PORT: String(webPort), GATEWAY_URL: gateway.url });
    cleanups.push(() => stopGroup(preview.child));
    await untilServing(preview, appUrl);

    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    fs.mkdirSync(SCREENSHOTS, { recursive: true });

    return {
      appUrl,
      gateway,
      smtp,
      twilio,
      async newDevice() {
        const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        return { context, page };
      },
      async mailTo(to, after = 0) {
        return waitFor(() => smtp.messages.slice(after).filter((m) => m.to.includes(to)).at(-1), `a mail to ${to}`, 15_000);
      },
      async smsTo(to, after = 0) {
        const req = await waitFor(() => twilio.requests.slice(after).filter((r) => r.kind === "message" && r.form.To === to).at(-1), `an SMS to ${to}`, 15_000);
        return req.form.Body;
      },
      async screenshot(page, name) {
        const file = path.join(SCREENSHOTS, `${name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        return file;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Runs a command in the repo to its end; rejects with its output when it fails. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output}`))));
  });
}

export async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise((resolve) => child.once("close", resolve));
  process.kill(-child.pid!, "SIGTERM");
  await Promise.race([ended, sleep(5000).then(() => process.kill(-child.pid!, "SIGKILL"))]);
}
