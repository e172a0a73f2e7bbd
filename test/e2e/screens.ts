import { Secret, TOTP } from "otpauth";
import type { Locator, Page } from "playwright-core";
import { codeIn } from "../helpers/codes";
import type { WebStack } from "./web-stack";

/** What the E2E scenarios read and press on the example app's screens, by role and name. */

export const button = (page: Page, name: string | RegExp) => page.getByRole("button", { name, exact: typeof name === "string" });
export const tab = (page: Page, name: string) => page.getByRole("tab", { name, exact: true });

export async function signedInAs(page: Page, who: string): Promise<void> {
  await page.getByTestId("signed-in-as").filter({ hasText: who }).waitFor();
}

export async function onSignInScreen(page: Page): Promise<void> {
  await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
}

export async function signOut(page: Page): Promise<void> {
  await button(page, "Sign out").click();
  await onSignInScreen(page);
}

/** How the person answers an OpenID provider's own pages (test/helpers/oidc-provider.ts's development login and consent). */
export interface AtProvider {
  login: string;
  password?: string;
  /** "deny" presses the consent page's "[ Cancel ]" link: the provider answers access_denied. */
  consent?: "approve" | "deny";
}

/**
 * Presses "Continue with …" or "Link …" and plays the provider's login and consent pages in
 * the browser until it is back in the app. Pages the provider skips (it remembers a signed-in
 * browser and the consent given) are skipped here too.
 */
export async function throughProvider(page: Page, start: Locator, issuer: string, appUrl: string, as: AtProvider): Promise<void> {
  const provider = new URL(issuer).origin;
  const app = new URL(appUrl).origin;
  // Taken before the click: the provider's first page can be there before the click returns.
  let previous = page.url();
  await start.click();
  for (let step = 0; step < 4; step++) {
    // "commit": the app takes the code off its URL as soon as it runs, so catch the URL before that.
    await page.waitForURL((url) => url.href !== previous && (url.origin === app || (url.origin === provider && url.pathname.startsWith("/interaction/"))), {
      waitUntil: "commit",
    });
    if (new URL(page.url()).origin === app) return;
    previous = page.url();
    const prompt = await page.locator('input[name="prompt"]').getAttribute("value");
    if (prompt === "login") {
      await page.locator('input[name="login"]').fill(as.login);
      await page.locator('input[name="password"]').fill(as.password ?? "any");
      await page.locator('button[type="submit"]').click();
    } else if (as.consent === "deny") {
      await page.getByRole("link", { name: "[ Cancel ]" }).click();
    } else {
      await page.locator('button[type="submit"]').click();
    }
  }
  throw new Error(`Still at the provider after its login and consent pages: ${page.url()}`);
}

/** A device whose session ended elsewhere: its next request lands it on sign-in, told why. */
export async function expectSignedOutOnNextRequest(page: Page): Promise<void> {
  await button(page, "Set up authenticator app").click();
  await onSignInScreen(page);
  await page.getByRole("alert").filter({ hasText: "Your session has ended. Please sign in again." }).waitFor();
}

export const PASSWORD = "correct horse battery staple";

/** A code from an authenticator app holding `secret`; `stepsAhead` picks a later 30 s step (the gateway accepts ±1). */
export const totpCode = (secret: string, stepsAhead = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate({ timestamp: Date.now() + stepsAhead * 30_000 });

/** A new password account, from the sign-in screen; ends on the account page. */
export async function signUp(page: Page, appUrl: string, email: string): Promise<void> {
  await page.goto(appUrl);
  await onSignInScreen(page);
  await button(page, "Create account").click();
  await page.getByRole("heading", { name: "Create account" }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await button(page, "Create account").click();
  await signedInAs(page, email);
}

export async function passwordLogin(page: Page, email: string, password = PASSWORD): Promise<void> {
  await tab(page, "Password").click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await button(page, "Sign in").click();
}

/** Turns TOTP on through the screens; returns the key read off the page and the recovery codes shown once. */
export async function enrolTotp(page: Page): Promise<{ secret: string; codes: string[] }> {
  await button(page, "Set up authenticator app").click();
  await page.getByRole("img", { name: "QR code for your authenticator app" }).waitFor();
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  await page.getByLabel("Code from your authenticator app").fill(totpCode(secret));
  await button(page, "Turn on").click();
  const list = page.getByTestId("recovery-codes");
  await list.waitFor();
  const codes = (await list.locator("li").allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);
  const done = button(page, "Done");
  expect(await done.isDisabled()).toBe(true);
  await page.getByLabel("I have saved these codes").check();
  await done.click();
  await list.waitFor({ state: "detached" });
  return { secret, codes };
}

/** The account page's "Verify email": the code mailed to the address proves it. */
export async function proveEmail(page: Page, stack: Pick<WebStack, "smtp" | "mailTo">, email: string): Promise<void> {
  const contacts = page.getByTestId("contacts");
  await contacts.getByText("Not verified").waitFor();
  const before = stack.smtp.messages.length;
  await contacts.getByRole("button", { name: "Verify email" }).click();
  await page.getByTestId("destination-hint").waitFor();
  await page.getByLabel("Code").fill(codeIn((await stack.mailTo(email, before)).text));
  await button(page, "Verify").click();
  await contacts.getByText("Verified", { exact: true }).waitFor();
}
