import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  type WebAuthnCredential,
} from "@simplewebauthn/server";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { addVirtualAuthenticator, type VirtualAuthenticator } from "./virtual-authenticator";
import { launchChromium } from "./web-stack";

/**
 * The real browser passkey path on this machine: headless Chromium's WebAuthn client with a
 * DevTools virtual authenticator, on a page served from http://localhost (a secure context),
 * with options from @simplewebauthn/server's generate* and responses checked by its verify*.
 * If this fails, the passkey E2E tests of the example app cannot pass either.
 */

jest.setTimeout(60_000);

/** The page's two calls: the browser API with its own JSON conversions (Chromium 129+). */
const PAGE = `<!doctype html><meta charset="utf-8"><title>passkeys</title><script>
  window.createPasskey = async (options) =>
    (await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })).toJSON();
  window.getPasskey = async (options) =>
    (await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) })).toJSON();
</script>`;

interface PasskeyPage {
  createPasskey(options: PublicKeyCredentialCreationOptionsJSON): Promise<RegistrationResponseJSON>;
  getPasskey(options: PublicKeyCredentialRequestOptionsJSON): Promise<AuthenticationResponseJSON>;
}

const RP_ID = "localhost";
const USER_ID = new TextEncoder().encode("user-e2e-1");

let server: Server;
let origin: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let authenticator: VirtualAuthenticator;
/** The credential as the server would store it, filled by the registration test. */
let stored: WebAuthnCredential;

beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(PAGE));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  await page.goto(origin);
  authenticator = await addVirtualAuthenticator(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const create = (options: PublicKeyCredentialCreationOptionsJSON) =>
  page.evaluate((o) => (globalThis as unknown as PasskeyPage).createPasskey(o), options);
const get = (options: PublicKeyCredentialRequestOptionsJSON) =>
  page.evaluate((o) => (globalThis as unknown as PasskeyPage).getPasskey(o), options);

async function signIn(options: PublicKeyCredentialRequestOptionsJSON) {
  const response = await get(options);
  const result = await verifyAuthenticationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: RP_ID,
    credential: stored,
    requireUserVerification: true,
  });
  return { response, result };
}

it("registers a resident, user-verified passkey that verifies with attestation none", async () => {
  const options = await generateRegistrationOptions({
    rpName: "Gateway",
    rpID: RP_ID,
    userName: "ada@example.com",
    userID: USER_ID,
    attestationType: "none",
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });

  const response = await create(options);
  const { verified, registrationInfo } = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: RP_ID,
    requireUserVerification: true,
  });

  expect(verified).toBe(true);
  expect(registrationInfo).toMatchObject({ fmt: "none", userVerified: true, origin, rpID: RP_ID, credential: { id: response.id } });
  expect(response.response.transports).toContain("internal");
  stored = registrationInfo!.credential;

  const held = await authenticator.credentials();
  expect(held).toHaveLength(1);
  expect(held[0]).toMatchObject({ id: response.id, rpId: RP_ID, isResidentCredential: true, userHandle: Buffer.from(USER_ID).toString("base64") });
});

it("signs in username-less (no allowCredentials): the response names the user and verifies", async () => {
  const options = await generateAuthenticationOptions({ rpID: RP_ID, userVerification: "required" });
  const { response, result } = await signIn(options);

  expect(response.id).toBe(stored.id);
  expect(Buffer.from(response.response.userHandle!, "base64url")).toEqual(Buffer.from(USER_ID));
  expect(result).toMatchObject({ verified: true, authenticationInfo: { userVerified: true, origin, rpID: RP_ID } });
  // The device's counter, as the server learns it.
  const [held] = await authenticator.credentials();
  expect(result.authenticationInfo.newCounter).toBe(held!.signCount);
  expect(result.authenticationInfo.newCounter).toBeGreaterThan(stored.counter);
  stored.counter = result.authenticationInfo.newCounter;
});

it("signs in with the credential listed (the email-first path), the counter going up again", async () => {
  const options = await generateAuthenticationOptions({
    rpID: RP_ID,
    userVerification: "required",
    allowCredentials: [{ id: stored.id, transports: stored.transports }],
  });
  const { result } = await signIn(options);
  expect(result.verified).toBe(true);
  expect(result.authenticationInfo.newCounter).toBeGreaterThan(stored.counter);
});

it("answers NotAllowedError when user verification fails on the device", async () => {
  await authenticator.setUserVerified(false);
  try {
    const options = await generateAuthenticationOptions({ rpID: RP_ID, userVerification: "required", timeout: 2_000 });
    await expect(get(options)).rejects.toThrow(/NotAllowedError/);
  } finally {
    await authenticator.setUserVerified(true);
  }
});

it("removes the device with its passkeys: a new one has none, and the browser answers NotAllowedError", async () => {
  await authenticator.remove();
  authenticator = await addVirtualAuthenticator(page);
  expect(await authenticator.credentials()).toEqual([]);
  const options = await generateAuthenticationOptions({ rpID: RP_ID, userVerification: "required", timeout: 2_000 });
  await expect(get(options)).rejects.toThrow(/NotAllowedError/);
});
