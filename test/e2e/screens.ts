import type { Page } from "playwright-core";

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

/** A device whose session ended elsewhere: its next request lands it on sign-in, told why. */
export async function expectSignedOutOnNextRequest(page: Page): Promise<void> {
  await button(page, "Set up authenticator app").click();
  await onSignInScreen(page);
  await page.getByRole("alert").filter({ hasText: "Your session has ended. Please sign in again." }).waitFor();
}
