import type { Page } from "playwright-core";
import { codeIn } from "../helpers/codes";
import { button, enrolTotp, expectSignedOutOnNextRequest, onSignInScreen, PASSWORD, passwordLogin, proveEmail, signedInAs, signOut, signUp, tab, totpCode } from "./screens";
import { newEmail, startWebStack, type WebStack } from "./web-stack";

/**
 * The example app (examples/web) in headless Chromium against the gateway process: every
 * scenario a person would go through, by clicking, typing and reading the screen. Mail
 * arrives at a real SMTP server, texts at a Twilio-compatible endpoint, TOTP codes come from
 * `otpauth` (not the gateway's own code). Each scenario ends with a screenshot in
 * test-output/e2e/.
 */

jest.setTimeout(90_000);

let stack: WebStack;
beforeAll(async () => {
  stack = await startWebStack();
}, 240_000);
afterAll(() => stack?.close());

/** Distinct phone numbers within the run. */
let n = 0;


/** Device A signs up, device B signs in to the same account with the password. */
async function oneAccountOnTwoDevices(tag: string) {
  const a = await stack.newDevice();
  const b = await stack.newDevice();
  const email = newEmail(tag);
  await signUp(a.page, stack.appUrl, email);
  await b.page.goto(stack.appUrl);
  await passwordLogin(b.page, email);
  await signedInAs(b.page, email);
  return { a, b, email };
}

/** From the Email code tab: asks for a code, reads it from the mail, signs in. */
async function emailCodeSignIn(page: Page, email: string): Promise<void> {
  const before = stack.smtp.messages.length;
  await page.getByLabel("Email").fill(email);
  await button(page, "Send code").click();
  await page.getByRole("heading", { name: "Enter your code" }).waitFor();
  await page.getByLabel("Code").fill(codeIn((await stack.mailTo(email, before)).text));
  await button(page, "Verify").click();
  await signedInAs(page, email);
}

/** The account page's password form: fills it and waits for the saved notice. */
async function savePassword(page: Page, opener: "Change password" | "Set a password", newPassword: string, currentPassword?: string): Promise<void> {
  await button(page, opener).click();
  if (currentPassword !== undefined) await page.getByLabel("Current password").fill(currentPassword);
  await page.getByLabel("New password").fill(newPassword);
  await button(page, "Save password").click();
  await page.getByTestId("password-saved").waitFor();
}

/** The page keeps nothing in storage, and the refresh cookie is out of scripts' reach. */
async function expectNoTokensReadableByScripts(page: Page): Promise<void> {
  // A string, evaluated in the page (the test's own TypeScript has no DOM types).
  const seen = await page.evaluate("({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })");
  expect(seen).toEqual({ local: 0, session: 0, cookie: "" });
  const cookies = await page.context().cookies();
  expect(cookies).toEqual([expect.objectContaining({ name: "refresh_token", httpOnly: true, sameSite: "Strict", path: "/graphql" })]);
}

describe("the example web app in a real browser", () => {
  it("sign up → turn on TOTP (key read off the page) → sign out → sign in with password + TOTP", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("totp");
    await signUp(page, stack.appUrl, email);
    await expectNoTokensReadableByScripts(page);
    // A reload keeps the session: the access token was in memory only, the cookie brings it back.
    await page.reload();
    await signedInAs(page, email);

    const { secret } = await enrolTotp(page);
    await page.getByText("Authenticator app:").filter({ hasText: "On" }).waitFor();

    await signOut(page);
    expect(await context.cookies()).toEqual([]);

    await passwordLogin(page, email);
    await page.getByRole("heading", { name: "One more step" }).waitFor();
    // The next 30 s step: the code used to turn TOTP on may not be replayed.
    await page.getByLabel("Code from your authenticator app").fill(totpCode(secret, 1));
    await button(page, "Verify").click();
    await signedInAs(page, email);
    await page.getByTestId("session-level").filter({ hasText: "Verified with two steps" }).waitFor();
    await stack.screenshot(page, "1-password-and-totp");
    await context.close();
  });

  it("passwordless email code: a wrong code shows the tries left, the right one signs in", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("otp");
    await page.goto(stack.appUrl);
    await tab(page, "Email code").click();
    const before = stack.smtp.messages.length;
    await page.getByLabel("Email").fill(email);
    await button(page, "Send code").click();
    await page.getByRole("heading", { name: "Enter your code" }).waitFor();
    await page.getByTestId("resend-countdown").filter({ hasText: /You can ask for a new code in \d+:\d\d/ }).waitFor();
    expect(await button(page, "Send a new code").isDisabled()).toBe(true);

    const code = codeIn((await stack.mailTo(email, before)).text);
    const wrong = code === "000000" ? "111111" : "000000";
    await page.getByLabel("Code").fill(wrong);
    await button(page, "Verify").click();
    await page.getByRole("alert").filter({ hasText: /4 tries left/ }).waitFor();

    await page.getByLabel("Code").fill(code);
    await button(page, "Verify").click();
    await signedInAs(page, email);
    await expectNoTokensReadableByScripts(page);
    await stack.screenshot(page, "2-passwordless-email-code");
    await context.close();
  });

  it("passwordless SMS code through the Twilio-compatible endpoint", async () => {
    const { page, context } = await stack.newDevice();
    const phone = `+1650555${String(1000 + n++).slice(-4)}`;
    await page.goto(stack.appUrl);
    await tab(page, "Text message code").click();
    const before = stack.twilio.requests.length;
    await page.getByLabel("Phone number").fill(phone);
    await button(page, "Send code").click();
    await page.getByRole("heading", { name: "Enter your code" }).waitFor();
    await page.getByLabel("Code").fill(codeIn(await stack.smsTo(phone, before)));
    await button(page, "Verify").click();
    await signedInAs(page, phone);
    await stack.screenshot(page, "3-passwordless-sms-code");
    await context.close();
  });

  it("step-up with TOTP; then a recovery code signs in once, the second use is refused on screen", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("recovery");
    await signUp(page, stack.appUrl, email);
    const { secret, codes } = await enrolTotp(page);

    // Step-up: the session signed in with a password alone proves the second factor.
    await page.getByTestId("session-level").filter({ hasText: "Verified with one step" }).waitFor();
    await button(page, "Confirm it's you").click();
    await page.getByLabel("Code from your authenticator app").fill(totpCode(secret, 1));
    await button(page, "Verify").click();
    await page.getByTestId("session-level").filter({ hasText: "Verified with two steps" }).waitFor();
    await page.getByTestId("session").filter({ hasText: "This device" }).filter({ hasText: "aal2" }).waitFor();
    await signOut(page);

    const useRecoveryCode = async () => {
      await passwordLogin(page, email);
      await page.getByRole("heading", { name: "One more step" }).waitFor();
      await tab(page, "Recovery code").click();
      await page.getByLabel("Recovery code").fill(codes[0]);
      await button(page, "Verify").click();
    };
    await useRecoveryCode();
    await signedInAs(page, email);
    await signOut(page);

    await useRecoveryCode();
    await page.getByRole("alert").filter({ hasText: "That recovery code isn't right, or was used already." }).waitFor();
    expect(await page.getByTestId("signed-in-as").count()).toBe(0);
    await stack.screenshot(page, "4-recovery-code-used-twice");
    await context.close();
  });

  it("magic link on two devices: a wrong number signs in nobody; the right one signs in the waiting device live", async () => {
    const a = await stack.newDevice();
    const b = await stack.newDevice();
    const email = newEmail("magic");
    await a.page.goto(stack.appUrl);
    await tab(a.page, "Magic link").click();
    const before = stack.smtp.messages.length;
    await a.page.getByLabel("Email").fill(email);
    await button(a.page, "Email me a link").click();
    await a.page.getByRole("heading", { name: "Check your email" }).waitFor();
    const matchCode = (await a.page.getByTestId("match-code").textContent())!.replace(/\s/g, "");
    expect(matchCode).toMatch(/^\d{2}$/);
    // A's page must not reload: a marker set now has to survive until A is signed in.
    await a.page.evaluate("window.marker = 'same page'");

    const link = (await stack.mailTo(email, before)).text.match(/https?:\/\/\S+\/auth\/magic-link\?token=[\w-]+/)![0];
    await b.page.goto(link);
    await a.page.getByRole("status").filter({ hasText: "The link was opened. Enter the number on the other device." }).waitFor();

    const wrong = matchCode === "11" ? "22" : "11";
    await b.page.getByLabel(/number/i).fill(wrong);
    await b.page.getByRole("button", { name: "Sign in on both devices" }).click();
    await b.page.getByText(/That number does not match/).waitFor();
    // Nobody signed in: A still waits, B has no session.
    await a.page.getByRole("status").filter({ hasText: "The link was opened" }).waitFor();
    expect(await b.context.cookies()).toEqual([]);

    await b.page.getByLabel(/number/i).fill(matchCode);
    await b.page.getByRole("button", { name: "Sign in on both devices" }).click();
    // A: signed in live, over the subscription, on the very same page.
    await signedInAs(a.page, email);
    expect(await a.page.evaluate("window.marker")).toBe("same page");
    await expectNoTokensReadableByScripts(a.page);
    // B never asked: the confirm page sends it to the app with tokens, but without the
    // state A stored, so the app refuses them (else anyone's link would sign in a browser).
    await b.page.getByText("This sign-in link was not asked for in this browser").waitFor();
    expect(await b.page.getByTestId("signed-in-as").count()).toBe(0);
    expect(await b.context.cookies()).toEqual([]);
    expect(await b.page.evaluate("({ local: localStorage.length, session: sessionStorage.length })")).toEqual({ local: 0, session: 0 });
    expect(b.page.url()).not.toMatch(/token/);
    await stack.screenshot(a.page, "5-magic-link-waiting-device");
    await stack.screenshot(b.page, "5-magic-link-other-device");
    await a.context.close();
    await b.context.close();
  });

  it("revoking the other session from the list signs that device out on its next request", async () => {
    const { a, b, email } = await oneAccountOnTwoDevices("revoke");

    await a.page.reload();
    await signedInAs(a.page, email);
    const sessions = a.page.getByTestId("session");
    await a.page.getByTestId("sessions").locator("li").nth(1).waitFor();
    expect(await sessions.count()).toBe(2);
    expect(await sessions.filter({ hasText: "This device" }).count()).toBe(1);
    await sessions.filter({ hasNotText: "This device" }).getByRole("button", { name: "Revoke" }).click();
    await a.page.getByTestId("sessions").locator("li").nth(1).waitFor({ state: "detached" });

    // B's next request (any action) is refused; its refresh is too: back to sign-in, told why.
    await expectSignedOutOnNextRequest(b.page);
    await stack.screenshot(b.page, "6-revoked-device-signed-out");
    await stack.screenshot(a.page, "6-sessions-after-revoke");
    await a.context.close();
    await b.context.close();
  });

  it("\"Sign out all other devices\" ends them all on their next request; this one stays", async () => {
    const { a, b, email } = await oneAccountOnTwoDevices("others");
    await a.page.reload();
    await signedInAs(a.page, email);
    await a.page.getByTestId("sessions").locator("li").nth(1).waitFor();
    await button(a.page, "Sign out all other devices").click();
    await a.page.getByTestId("sessions").locator("li").nth(1).waitFor({ state: "detached" });
    expect(await button(a.page, "Sign out all other devices").count()).toBe(0);
    await signedInAs(a.page, email);
    await stack.screenshot(a.page, "15-other-devices-signed-out");

    await expectSignedOutOnNextRequest(b.page);
    await a.context.close();
    await b.context.close();
  });

  it("a session revoked while the app was closed: reopening it says the session ended, once", async () => {
    const b = await stack.newDevice();
    const email = newEmail("closed");
    await signUp(b.page, stack.appUrl, email);
    await b.page.close();

    const a = await stack.newDevice();
    await a.page.goto(stack.appUrl);
    await passwordLogin(a.page, email);
    await signedInAs(a.page, email);
    await a.page.getByTestId("sessions").locator("li").nth(1).waitFor();
    await a.page.getByTestId("session").filter({ hasNotText: "This device" }).getByRole("button", { name: "Revoke" }).click();
    await a.page.getByTestId("sessions").locator("li").nth(1).waitFor({ state: "detached" });

    // B comes back later: its cookie is refused on start, which is a session that ended.
    const back = await b.context.newPage();
    await back.goto(stack.appUrl);
    await onSignInScreen(back);
    await back.getByRole("alert").filter({ hasText: "Your session has ended. Please sign in again." }).waitFor();
    await stack.screenshot(back, "12-reopened-after-revoke");
    // The refused cookie was cleared: the next start is a plain sign-in screen.
    await back.reload();
    await onSignInScreen(back);
    expect(await back.getByRole("alert").count()).toBe(0);
    await a.context.close();
    await b.context.close();
  });

  it("changing the password with the current one signs the other device out; only the new one works after", async () => {
    const { a, b, email } = await oneAccountOnTwoDevices("change");
    const fresh = "a different long passphrase";

    await savePassword(a.page, "Change password", fresh, PASSWORD);
    await stack.screenshot(a.page, "13-password-changed");

    // B is out on its next request, told why; the old password no longer gets it back in.
    await expectSignedOutOnNextRequest(b.page);
    await passwordLogin(b.page, email);
    await b.page.getByRole("alert").filter({ hasText: "Wrong email or password." }).waitFor();
    await passwordLogin(b.page, email, fresh);
    await signedInAs(b.page, email);
    await a.context.close();
    await b.context.close();
  });

  it("a forgotten password: an email code from the sign-in screen, then a new password without the old one", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("forgot");
    const fresh = "remembered this one at last";
    await signUp(page, stack.appUrl, email);
    await signOut(page);

    // Forgotten: the password tab points to a code, which proves the address and signs in.
    await button(page, "Sign in with an email code").click();
    await emailCodeSignIn(page, email);
    // The password was set before the address was proven, so the code dropped it (README,
    // pre-account hijacking): the page offers to set one, and the old one is not asked for.
    const before = stack.smtp.messages.length;
    await savePassword(page, "Set a password", fresh);
    expect((await stack.mailTo(email, before)).subject).toBe("Your Example App password was set");

    await signOut(page);
    await passwordLogin(page, email);
    await page.getByRole("alert").filter({ hasText: "Wrong email or password." }).waitFor();
    await passwordLogin(page, email, fresh);
    await signedInAs(page, email);
    // Just signed in, so a change needs no current password either.
    await savePassword(page, "Change password", "and yet another passphrase");
    await stack.screenshot(page, "14-forgotten-password-replaced");
    await context.close();
  });

  it("proves the email of a password account from the account page with a code", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("verify");
    await signUp(page, stack.appUrl, email);
    await proveEmail(page, stack, email);
    expect(await page.getByTestId("contacts").getByRole("button", { name: "Verify email" }).count()).toBe(0);
    await signedInAs(page, email);
    await stack.screenshot(page, "16-email-verified");
    await context.close();
  });

  it("adds a phone from the account page: a text message code proves it, then the phone signs in to the same account", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("phone");
    const phone = `+1650555${String(1000 + n++).slice(-4)}`;
    await signUp(page, stack.appUrl, email);
    const contacts = page.getByTestId("contacts");
    let before = stack.twilio.requests.length;
    await page.getByLabel("Add a phone number").fill(phone);
    await button(page, "Send code").click();
    await page.getByLabel("Code").fill(codeIn(await stack.smsTo(phone, before)));
    await button(page, "Verify").click();
    await contacts.getByText(phone).waitFor();
    expect(await contacts.getByText("Not verified").count()).toBe(1); // the email; the phone is proven
    await stack.screenshot(page, "17-phone-added");
    await context.close();

    // The proven phone signs in to this account (no separate one).
    const other = await stack.newDevice();
    await other.page.goto(stack.appUrl);
    await tab(other.page, "Text message code").click();
    before = stack.twilio.requests.length;
    await other.page.getByLabel("Phone number").fill(phone);
    await button(other.page, "Send code").click();
    await other.page.getByLabel("Code").fill(codeIn(await stack.smsTo(phone, before)));
    await button(other.page, "Verify").click();
    await signedInAs(other.page, email);
    await other.context.close();
  });

  it("network loss shows a banner and keeps the screen; the app recovers when the network is back", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("offline");
    await signUp(page, stack.appUrl, email);
    await context.setOffline(true);
    await button(page, "Set up authenticator app").click();
    await page.getByTestId("network-banner").filter({ hasText: "Can't reach the server" }).waitFor();
    await page.getByRole("alert").filter({ hasText: "That didn't go through" }).waitFor();
    // No blank page: still the account screen, still signed in.
    await signedInAs(page, email);
    await stack.screenshot(page, "7-offline");

    await context.setOffline(false);
    await button(page, "Set up authenticator app").click();
    await page.getByTestId("totp-secret").waitFor();
    await page.getByTestId("network-banner").waitFor({ state: "detached" });
    await context.close();
  });

  it("refreshes the access token silently before it expires (the page's clock fast-forwarded)", async () => {
    const { page, context } = await stack.newDevice();
    // The page's timers and Date are Playwright's from the start, so they can be moved on.
    await page.clock.install();
    const email = newEmail("silent");
    await signUp(page, stack.appUrl, email);
    const [cookieBefore] = await context.cookies();

    const refreshed = page.waitForResponse((r) => r.url().endsWith("/graphql") && (r.request().postData() ?? "").includes("refreshTokens"));
    // Access tokens live 15 minutes; the app refreshes at 80% of that, with no help from the person.
    await page.clock.fastForward("12:30");
    const response = await refreshed;
    const body = (await response.json()) as { data?: { refreshTokens: { refreshToken: string; accessToken: string } } };
    expect(body.data!.refreshTokens.refreshToken).toBe("");
    const [cookieAfter] = await context.cookies();
    expect(cookieAfter.value).not.toBe(cookieBefore.value);
    await signedInAs(page, email);
    // Still working after the swap: the next request uses the new access token.
    await button(page, "Set up authenticator app").click();
    await page.getByTestId("totp-secret").waitFor();
    await stack.screenshot(page, "8-silent-refresh");
    await context.close();
  });

  it("several tabs of one browser restore the session together without tripping refresh-token reuse", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("tabs");
    await signUp(page, stack.appUrl, email);
    const tabs = [page, await context.newPage(), await context.newPage(), await context.newPage()];
    // As a browser restoring its tabs: every one starts at once and refreshes from the same cookie.
    await Promise.all(tabs.map((tab) => tab.goto(stack.appUrl)));
    for (const tab of tabs) await signedInAs(tab, email);
    // The session survived (reuse would have revoked it): a new tab still gets in.
    const late = await context.newPage();
    await late.goto(stack.appUrl);
    await signedInAs(late, email);
    await stack.screenshot(late, "9-tabs-restored-together");
    await context.close();
  });

  it("signing in or out in one tab does the same in the others", async () => {
    const { page: first, context } = await stack.newDevice();
    const second = await context.newPage();
    await first.goto(stack.appUrl);
    await second.goto(stack.appUrl);
    await onSignInScreen(second);
    const email = newEmail("broadcast");
    await signUp(first, stack.appUrl, email);
    await signedInAs(second, email);
    await button(second, "Sign out").click();
    await onSignInScreen(first);
    expect(await first.getByRole("alert").count()).toBe(0);
    await stack.screenshot(first, "10-signed-out-in-every-tab");
    await context.close();
  });

  it("opened while the gateway is unreachable, the app restores the session once it answers again", async () => {
    const { page, context } = await stack.newDevice();
    const email = newEmail("restore");
    await signUp(page, stack.appUrl, email);
    const tab = await context.newPage();
    // The gateway is unreachable for this tab (the page itself still loads).
    const down = (route: { abort(): Promise<void> }) => route.abort();
    await tab.route("**/graphql", down);
    await tab.goto(stack.appUrl);
    await tab.getByTestId("network-banner").waitFor();
    await onSignInScreen(tab);
    await tab.unroute("**/graphql", down);
    await signedInAs(tab, email);
    await tab.getByTestId("network-banner").waitFor({ state: "detached" });
    await stack.screenshot(tab, "11-restored-after-outage");
    await context.close();
  });
});
