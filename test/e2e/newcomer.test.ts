import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { freePort } from "../helpers/ports";
import { codeIn } from "../helpers/codes";
import { button, signedInAs, tab } from "./screens";
import { launchChromium, SCREENSHOTS, startScript, stopGroup, untilServing } from "./web-stack";

/**
 * The README's one command for a newcomer, `npm run web`: the gateway on its embedded
 * defaults (PGlite, in-process store, dev outbox: no DATABASE_URL or REDIS_URL) next to the
 * app's Vite dev server. Here it is `npm run web:dev`, which is `npm run web` minus the
 * build `npm test` has just done. Codes and links are read off the app's own Dev outbox
 * panel, as a person trying it would.
 */

jest.setTimeout(90_000);

let browser: Browser;
let dev: ReturnType<typeof startScript>;
let appUrl: string;
let dataDir: string;

beforeAll(async () => {
  const [gatewayPort, webPort] = [await freePort(), await freePort()];
  appUrl = `http://localhost:${webPort}`;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-newcomer-"));
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...env } = process.env;
  dev = startScript("web:dev", { ...env, PORT: String(gatewayPort), WEB_PORT: String(webPort), DATA_DIR: dataDir });
  await untilServing(dev, `http://localhost:${gatewayPort}/readyz`);
  await untilServing(dev, appUrl);
  browser = await launchChromium();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dev) await stopGroup(dev.child);
  fs.rmSync(dataDir, { recursive: true, force: true });
});


/** Opens the Dev outbox panel and returns the newest message to `to`. */
async function outboxMessageTo(page: Page, to: string) {
  const panel = page.locator("details.outbox");
  if ((await panel.getAttribute("open")) === null) await page.getByText("Dev outbox", { exact: true }).click();
  const message = page.getByTestId("outbox-message").filter({ hasText: to }).first();
  await message.waitFor();
  return message;
}

describe("npm run web, as a newcomer uses it", () => {
  it("runs on embedded defaults and says so", () => {
    const output = dev.output();
    expect(output).toMatch(/DATABASE_URL unset: using embedded PGlite/);
    expect(output).toMatch(/SMTP_URL unset: email goes to the development outbox/);
  });

  it("signs up with an email code read off the Dev outbox panel", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const email = `newcomer-${Date.now()}@example.com`;
    await page.goto(appUrl);
    await tab(page, "Email code").click();
    await page.getByLabel("Email").fill(email);
    await button(page, "Send code").click();
    await page.getByRole("heading", { name: "Enter your code" }).waitFor();

    const message = await outboxMessageTo(page, email);
    const code = codeIn((await message.textContent())!);
    await page.getByLabel("Code").fill(code);
    await button(page, "Verify").click();
    await signedInAs(page, email);
    await page.screenshot({ path: path.join(SCREENSHOTS, "newcomer-1-email-code.png"), fullPage: true });
    await context.close();
  });

  it("signs in by magic link: the link clicked in the Dev outbox, the number typed on the page it opens", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const email = `newcomer-link-${Date.now()}@example.com`;
    await page.goto(appUrl);
    await tab(page, "Magic link").click();
    await page.getByLabel("Email").fill(email);
    await button(page, "Email me a link").click();
    await page.getByRole("heading", { name: "Check your email" }).waitFor();
    const matchCode = (await page.getByTestId("match-code").textContent())!.replace(/\s/g, "");

    // The link opens in a new tab (target=_blank), as a click in the panel does.
    const message = await outboxMessageTo(page, email);
    const [confirmPage] = await Promise.all([context.waitForEvent("page"), message.getByRole("link").click()]);
    await confirmPage.getByLabel(/number/i).fill(matchCode);
    await confirmPage.getByRole("button", { name: "Sign in on both devices" }).click();
    await signedInAs(confirmPage, email);
    await signedInAs(page, email);
    await page.screenshot({ path: path.join(SCREENSHOTS, "newcomer-2-magic-link.png"), fullPage: true });
    await context.close();
  });
});
