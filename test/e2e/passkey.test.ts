import type { Page } from "playwright-core";
import { codeIn } from "../helpers/codes";
import { button, enrolTotp, onSignInScreen, passwordLogin, proveEmail, signedInAs, signOut, signUp, tab, totpCode } from "./screens";
import { addVirtualAuthenticator, type VirtualAuthenticator } from "./virtual-authenticator";
import { newEmail, startWebStack, type WebStack } from "./web-stack";

/**
 * Passkeys in the example app, in headless Chromium: its own WebAuthn client with a
 * DevTools virtual authenticator (a platform authenticator with user verification), so
 * navigator.credentials.create/get run the browser's real path against the gateway.
 *
 * With no UI to click, that authenticator answers a conditional (autofill) request at
 * once, as a person picking the passkey from the email field's suggestions would. Where a
 * scenario needs the sign-in screen without that, user verification is failed on purpose
 * until the autofill request has ended.
 */

jest.setTimeout(90_000);

let stack: WebStack;
beforeAll(async () => {
  stack = await startWebStack();
}, 240_000);
afterAll(() => stack?.close());


/** The sign-in screen's autofill request has settled without signing anyone in. */
async function autofillEnded(page: Page): Promise<void> {
  await page.locator('[data-passkey-autofill="ended"]').waitFor();
}

/** On the sign-in screen, with this authenticator's autofill answer refused (no user verification). */
async function signOutWithoutAutofill(page: Page, authenticator: VirtualAuthenticator): Promise<void> {
  await authenticator.setUserVerified(false);
  await signOut(page);
  await autofillEnded(page);
  await authenticator.setUserVerified(true);
}

const sessionLevel = (page: Page, text: string) => page.getByTestId("session-level").filter({ hasText: text }).waitFor();

describe("passkeys in the example web app", () => {
  it("sign up with a passkey (email code first) → sign out → the passkey button signs in; so does autofill", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("passkey");
    await page.goto(stack.appUrl);
    // Before any passkey step: Chromium refuses a discoverable request with no authenticator at all.
    const authenticator = await addVirtualAuthenticator(page);
    await onSignInScreen(page);
    expect(await page.getByLabel("Email").getAttribute("autocomplete")).toBe("username webauthn");

    // The email is proven first, so the account can be recovered without the device.
    await button(page, "Create account").click();
    await tab(page, "Passkey").click();
    let before = stack.smtp.messages.length;
    await page.getByLabel("Email").fill(email);
    await button(page, "Send code").click();
    await page.getByRole("heading", { name: "Enter your code" }).waitFor();
    await page.getByLabel("Code").fill(codeIn((await stack.mailTo(email, before)).text));
    await button(page, "Verify").click();

    await page.getByRole("heading", { name: "Create a passkey" }).waitFor();
    before = stack.smtp.messages.length;
    await button(page, "Create a passkey").click();
    await signedInAs(page, email);
    await page.getByTestId("passkey").waitFor();
    expect(await page.getByTestId("passkey").count()).toBe(1);
    expect(await authenticator.credentials()).toHaveLength(1);
    // The proven address hears of the new passkey.
    expect((await stack.mailTo(email, before)).subject).toMatch(/passkey/i);
    await stack.screenshot(page, "passkey-1-created-at-sign-up");

    await signOutWithoutAutofill(page, authenticator);
    // Closing the browser's prompt (here: user verification fails) is said as a cancel.
    await authenticator.setUserVerified(false);
    await button(page, "Sign in with a passkey").click();
    await page.getByRole("alert").filter({ hasText: "The passkey request was cancelled or timed out." }).waitFor();
    await stack.screenshot(page, "passkey-2-sign-in-cancelled");
    await authenticator.setUserVerified(true);
    await button(page, "Sign in with a passkey").click();
    await signedInAs(page, email);
    // A passkey with user verification is multi-factor on its own.
    await sessionLevel(page, "Verified with two steps");
    await page.getByTestId("passkey").filter({ hasText: "last used" }).waitFor();
    await stack.screenshot(page, "passkey-3-signed-in-with-the-button");

    // Autofill: the sign-in screen's conditional request takes the passkey and signs in.
    await signOut(page);
    await signedInAs(page, email);
    await sessionLevel(page, "Verified with two steps");
    await authenticator.remove();
    await context.close();
  });

  it("a password account with TOTP adds a passkey, finishes a sign-in with it as the second factor, renames and removes it", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("passkey-mfa");
    await signUp(page, stack.appUrl, email);
    const authenticator = await addVirtualAuthenticator(page);
    // A passkey must not outlive a claim of the address by its owner: the gateway wants it proven first.
    await button(page, "Add a passkey").click();
    await page.getByRole("alert").filter({ hasText: "Prove your email address or phone number first" }).waitFor();
    await proveEmail(page, stack, email);
    const { secret } = await enrolTotp(page);

    // With TOTP on, adding a passkey is an account change that wants this session at aal2.
    await button(page, "Add a passkey").click();
    await page.getByRole("alert").filter({ hasText: "Confirm with your authenticator app first (step-up)" }).waitFor();
    await button(page, "Confirm it's you").click();
    await page.getByLabel("Code from your authenticator app").fill(totpCode(secret, 1));
    await button(page, "Verify").click();
    await sessionLevel(page, "Verified with two steps");
    await button(page, "Add a passkey").click();
    await page.getByTestId("passkey").waitFor();

    await page.getByTestId("passkey").getByRole("button", { name: "Rename" }).click();
    await page.getByLabel("Passkey name").fill("Work laptop");
    await button(page, "Save name").click();
    await page.getByTestId("passkey-name").filter({ hasText: "Work laptop" }).waitFor();

    // The password first, then the passkey as the second step.
    await signOutWithoutAutofill(page, authenticator);
    await passwordLogin(page, email);
    await page.getByRole("heading", { name: "One more step" }).waitFor();
    await tab(page, "Passkey").click();
    await button(page, "Use a passkey").click();
    await signedInAs(page, email);
    await sessionLevel(page, "Verified with two steps");
    await page.getByTestId("session").filter({ hasText: "This device" }).filter({ hasText: "aal2" }).waitFor();
    await stack.screenshot(page, "passkey-4-second-factor");

    await page.getByTestId("passkey").getByRole("button", { name: "Remove" }).click();
    await page.getByTestId("passkey").waitFor({ state: "detached" });
    await stack.screenshot(page, "passkey-5-removed");

    // Gone for the gateway too: the MFA step no longer offers it.
    await signOutWithoutAutofill(page, authenticator);
    await passwordLogin(page, email);
    await page.getByRole("heading", { name: "One more step" }).waitFor();
    expect(await tab(page, "Passkey").count()).toBe(0);
    await authenticator.remove();
    await context.close();
  });
});
