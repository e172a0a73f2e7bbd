import type { Page } from "playwright-core";
import { startOidcProvider, type OidcTestProvider, type OidcUser } from "../helpers/oidc-provider";
import { button, enrolTotp, onSignInScreen, signedInAs, signOut, signUp, throughProvider, totpCode, type AtProvider } from "./screens";
import { waitFor } from "../helpers/wait";
import { startWebStack, type WebStack } from "./web-stack";

/**
 * Social sign-in in the example app (issue #16), in headless Chromium: the gateway with a
 * generic OpenID provider (OIDC_PROVIDERS=acme) that is a real oidc-provider in this process,
 * whose own login and consent pages the browser goes through.
 */

jest.setTimeout(90_000);

const PROVIDER = "Acme ID";
const users: OidcUser[] = [
  { sub: "acme-ada", email: "ada@acme.example", email_verified: true, name: "Ada" },
  { sub: "acme-bob", email: "bob@acme.example", email_verified: false, name: "Bob" },
  { sub: "acme-carol", email: "carol@acme.example", email_verified: true, name: "Carol" },
  { sub: "acme-dave", email: "dave@acme.example", email_verified: true, name: "Dave" },
  // Linked nowhere: the linking-CSRF victim's provider account.
  { sub: "acme-erin", email: "erin@acme.example", email_verified: true, name: "Erin" },
];

let stack: WebStack;
let idp: OidcTestProvider;
beforeAll(async () => {
  stack = await startWebStack({
    // The provider needs the gateway's callback registered, the gateway the provider's issuer.
    gatewaySettings: async (publicUrl) => {
      idp = await startOidcProvider({ redirectUris: [`${publicUrl}/auth/social/acme/callback`], users });
      return {
        OIDC_PROVIDERS: "acme",
        OIDC_ACME_ISSUER: idp.issuer,
        OIDC_ACME_CLIENT_ID: idp.clientId,
        OIDC_ACME_CLIENT_SECRET: idp.clientSecret,
        OIDC_ACME_NAME: PROVIDER,
        // Generic providers' emails join accounts only when trusted (SOCIAL.md); this one verifies them.
        OIDC_ACME_TRUST_EMAIL: "true",
      };
    },
  });
}, 240_000);
afterAll(async () => {
  await stack?.close();
  await idp?.close();
});

/** From the sign-in screen, through the provider's pages, back in the app. */
async function continueWithProvider(page: Page, as: AtProvider): Promise<void> {
  await onSignInScreen(page);
  await throughProvider(page, button(page, `Continue with ${PROVIDER}`), idp.issuer, stack.appUrl, as);
}

/** Back in the app with the one-time code and the state off the URL, and nothing left in storage. */
async function expectCleanAddressBar(page: Page): Promise<void> {
  expect(page.url()).toBe(`${stack.appUrl}/`);
  expect(await page.evaluate("({ local: localStorage.length, session: sessionStorage.length })")).toEqual({ local: 0, session: 0 });
}

describe("social sign-in in the example app", () => {
  it("Continue with the provider → its login and consent pages → signed in; the account lists the identity; sign out", async () => {
    const { page, context } = await stack.newDevice();
    await page.goto(stack.appUrl);
    await continueWithProvider(page, { login: "acme-ada" });
    // The provider vouched for the email and is trusted: the account has it, proven.
    await signedInAs(page, "ada@acme.example");
    await expectCleanAddressBar(page);
    await page.getByTestId("contacts").getByText("Verified", { exact: true }).waitFor();
    await page.getByTestId("identity").filter({ hasText: PROVIDER }).filter({ hasText: "ada@acme.example" }).waitFor();
    const refresh = (await context.cookies(`${stack.appUrl}/graphql`)).find((c) => c.name === "refresh_token");
    // The refresh token went to the httpOnly cookie, as with every sign-in (REFRESH_TOKEN_COOKIE=true).
    expect(refresh).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/graphql" });
    await stack.screenshot(page, "social-1-signed-in");

    await signOut(page);
    // The button is there for the next sign-in.
    await button(page, `Continue with ${PROVIDER}`).waitFor();
    await context.close();
  });

  it("a provider account without a verified email gets an account of its own; unlinking its only way in is refused", async () => {
    const { page, context } = await stack.newDevice();
    await page.goto(stack.appUrl);
    await continueWithProvider(page, { login: "acme-bob" });
    await signedInAs(page, "an account without an email or phone");
    const identity = page.getByTestId("identity").filter({ hasText: "bob@acme.example" });
    await identity.waitFor();
    await identity.getByRole("button", { name: "Unlink" }).click();
    // The gateway's own words (BAD_USER_INPUT), and the identity stays.
    await page.getByRole("alert").filter({ hasText: "This is the only way to sign in to your account" }).waitFor();
    await identity.waitFor();
    await stack.screenshot(page, "social-2-unlink-refused");
    await context.close();
  });

  it("denied consent at the provider: back on the sign-in screen, told so, nobody signed in", async () => {
    const { page, context } = await stack.newDevice();
    await page.goto(stack.appUrl);
    await continueWithProvider(page, { login: "acme-ada", consent: "deny" });
    await onSignInScreen(page);
    await page.getByRole("alert").filter({ hasText: `You cancelled signing in with ${PROVIDER}` }).waitFor();
    expect(await page.getByTestId("signed-in-as").count()).toBe(0);
    expect((await context.cookies(`${stack.appUrl}/graphql`)).find((c) => c.name === "refresh_token")).toBeUndefined();
    await expectCleanAddressBar(page);
    await stack.screenshot(page, "social-3-consent-denied");
    await context.close();
  });

  it("an account with TOTP gets the MFA step after the provider too", async () => {
    const { page, context } = await stack.newDevice();
    await page.goto(stack.appUrl);
    await continueWithProvider(page, { login: "acme-carol" });
    await signedInAs(page, "carol@acme.example");
    const { secret } = await enrolTotp(page);
    await signOut(page);

    // The provider remembers this browser (it may skip its pages); the gateway still asks for the second step.
    await continueWithProvider(page, { login: "acme-carol" });
    await page.getByRole("heading", { name: "One more step" }).waitFor();
    await expectCleanAddressBar(page);
    await page.getByLabel("Code from your authenticator app").fill(totpCode(secret, 1));
    await button(page, "Verify").click();
    await signedInAs(page, "carol@acme.example");
    await page.getByTestId("session-level").filter({ hasText: "Verified with two steps" }).waitFor();
    await stack.screenshot(page, "social-4-mfa-after-provider");
    await context.close();
  });

  it("a password account links the provider from the account page, then unlinks it", async () => {
    const { page, context } = await stack.newDevice();
    const email = `linker-${Date.now()}@example.com`;
    await signUp(page, stack.appUrl, email);
    const arrivals: URL[] = [];
    page.on("framenavigated", (frame) => void (frame === page.mainFrame() && arrivals.push(new URL(frame.url()))));
    await throughProvider(page, button(page, `Link ${PROVIDER}`), idp.issuer, stack.appUrl, { login: "acme-dave" });
    await signedInAs(page, email);
    // The callback linked nothing itself: it handed the app a link code, which the account page traded (completeLinkIdentity).
    const back = arrivals.find((url) => url.pathname === "/sign-in/callback")!;
    expect([...back.searchParams.keys()].sort()).toEqual(["link_code", "state"]);
    await page.getByTestId("link-outcome").filter({ hasText: `${PROVIDER} is linked` }).waitFor();
    await expectCleanAddressBar(page);
    const identity = page.getByTestId("identity").filter({ hasText: "dave@acme.example" });
    await identity.waitFor();

    // The password is still a way in: this unlink goes through.
    await identity.getByRole("button", { name: "Unlink" }).click();
    await identity.waitFor({ state: "detached" });
    await button(page, `Link ${PROVIDER}`).waitFor();
    await stack.screenshot(page, "social-5-linked-then-unlinked");
    await context.close();
  });

  it("an authorization URL from someone else's link request links nothing (linking CSRF)", async () => {
    // The attacker starts a link on their own account and keeps the provider's URL instead of going there.
    const attacker = await stack.newDevice();
    const attackerEmail = `attacker-${Date.now()}@example.com`;
    await signUp(attacker.page, stack.appUrl, attackerEmail);
    let authorizationUrl = "";
    await attacker.page.route(`${idp.issuer}/**`, (route) => {
      authorizationUrl = route.request().url();
      return route.abort();
    });
    await button(attacker.page, `Link ${PROVIDER}`).click();
    await waitFor(() => authorizationUrl.includes("/auth?"), "the attacker's authorization URL");

    // The victim, signed in here, follows it; the provider sends the browser back with the attacker's link code.
    const victim = await stack.newDevice();
    const victimEmail = `victim-${Date.now()}@example.com`;
    await signUp(victim.page, stack.appUrl, victimEmail);
    await victim.page.evaluate(
      `document.body.append(Object.assign(document.createElement("a"), { href: ${JSON.stringify(authorizationUrl)}, id: "sent-link", textContent: "a link in a message" }))`,
    );
    await throughProvider(victim.page, victim.page.locator("#sent-link"), idp.issuer, stack.appUrl, { login: "acme-erin" });
    await signedInAs(victim.page, victimEmail);
    // The app refuses it (this tab stored no state for it) and the gateway linked nothing at the callback.
    await victim.page.getByRole("alert").filter({ hasText: "not started in this browser, so nothing was linked" }).waitFor();
    await stack.screenshot(victim.page, "social-6-link-csrf-refused");
    // (The aborted navigation left the attacker's tab on an error page: open the app again.)
    await attacker.page.goto(stack.appUrl);
    await signedInAs(attacker.page, attackerEmail);
    await button(attacker.page, `Link ${PROVIDER}`).waitFor();
    expect(await attacker.page.getByTestId("identity").count()).toBe(0);
    await attacker.context.close();
    await victim.context.close();
  });
});
