import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from "@simplewebauthn/server";
import { SOFT_AAGUID, SoftAuthenticator, type CreateOptions } from "./soft-authenticator";

/**
 * The soft authenticator against the real @simplewebauthn/server: what it produces verifies
 * the way a browser's does, and what it is told to get wrong is refused by the library. The
 * passkey integration tests rely on both halves.
 */

const RP_ID = "localhost";
const ORIGIN = "http://localhost:4000";
const USER_ID = new TextEncoder().encode("user-42");

const registrationOptions = () =>
  generateRegistrationOptions({
    rpName: "Gateway",
    rpID: RP_ID,
    userName: "ada@example.com",
    userID: USER_ID,
    attestationType: "none",
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });

/** Registers one credential and returns it as the server would store it. */
async function register(authenticator: SoftAuthenticator, client: Partial<CreateOptions> = {}): Promise<WebAuthnCredential> {
  const options = await registrationOptions();
  const response = authenticator.createCredential(options, { origin: ORIGIN, ...client });
  const { verified, registrationInfo } = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification: true,
  });
  if (!verified) throw new Error("registration did not verify");
  return registrationInfo.credential;
}

async function authenticate(credential: WebAuthnCredential, response: Parameters<typeof verifyAuthenticationResponse>[0]["response"], challenge: string) {
  return verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    credential,
    requireUserVerification: true,
  });
}

describe("registration", () => {
  it("verifies with attestation none and user verification required, and reports what the server stores", async () => {
    const authenticator = new SoftAuthenticator();
    const options = await registrationOptions();
    const response = authenticator.createCredential(options, { origin: ORIGIN });

    const { verified, registrationInfo } = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      requireUserVerification: true,
    });

    expect(verified).toBe(true);
    expect(registrationInfo).toMatchObject({
      fmt: "none",
      aaguid: SOFT_AAGUID,
      userVerified: true,
      origin: ORIGIN,
      rpID: RP_ID,
      credentialDeviceType: "singleDevice",
      credentialBackedUp: false,
      credential: { id: response.id, counter: 0, transports: ["internal"] },
    });
    expect(registrationInfo!.credential.publicKey).toEqual(authenticator.credentials(RP_ID)[0]!.publicKey);
    expect(response.clientExtensionResults).toEqual({ credProps: { rk: true } });
  });

  it("reports a synced passkey from the BE and BS flags", async () => {
    const options = await registrationOptions();
    const response = new SoftAuthenticator().createCredential(options, { origin: ORIGIN, backupEligible: true, backupState: true });
    const { registrationInfo } = await verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: ORIGIN, expectedRPID: RP_ID });
    expect(registrationInfo).toMatchObject({ credentialDeviceType: "multiDevice", credentialBackedUp: true });
  });

  it("is refused without user verification when it is required", async () => {
    const options = await registrationOptions();
    const response = new SoftAuthenticator().createCredential(options, { origin: ORIGIN, userVerified: false });
    await expect(
      verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: ORIGIN, expectedRPID: RP_ID, requireUserVerification: true }),
    ).rejects.toThrow("User verification was required");
  });

  it("is refused from another origin", async () => {
    const options = await registrationOptions();
    const response = new SoftAuthenticator().createCredential(options, { origin: "https://evil.example" });
    await expect(
      verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: ORIGIN, expectedRPID: RP_ID }),
    ).rejects.toThrow('Unexpected registration response origin "https://evil.example"');
  });

  it("is refused for another rpId", async () => {
    const options = await registrationOptions();
    const response = new SoftAuthenticator().createCredential(options, { origin: ORIGIN, rpId: "evil.example" });
    await expect(
      verifyRegistrationResponse({ response, expectedChallenge: options.challenge, expectedOrigin: ORIGIN, expectedRPID: RP_ID }),
    ).rejects.toThrow("Unexpected RP ID hash");
  });

  it("refuses to create a second credential on a device listed in excludeCredentials", async () => {
    const authenticator = new SoftAuthenticator();
    const first = await register(authenticator);
    const options = await generateRegistrationOptions({ rpName: "Gateway", rpID: RP_ID, userName: "ada@example.com", excludeCredentials: [{ id: first.id }] });
    expect(() => authenticator.createCredential(options, { origin: ORIGIN })).toThrow("InvalidStateError");
  });
});

describe("authentication", () => {
  it("verifies, and the counter goes up with every use", async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await register(authenticator);

    for (const expected of [1, 2, 3]) {
      const options = await generateAuthenticationOptions({ rpID: RP_ID, allowCredentials: [{ id: credential.id }], userVerification: "required" });
      const result = await authenticate(credential, authenticator.getAssertion(options, { origin: ORIGIN }), options.challenge);
      expect(result).toMatchObject({ verified: true, authenticationInfo: { newCounter: expected, userVerified: true, credentialID: credential.id, origin: ORIGIN, rpID: RP_ID } });
      credential.counter = result.authenticationInfo.newCounter;
    }
  });

  it("is discoverable: with no allowCredentials it picks the rpId's credential and carries the user handle", async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await register(authenticator);
    // Newer, but for another site: must not be picked.
    authenticator.createCredential(await generateRegistrationOptions({ rpName: "Other", rpID: "other.example", userName: "ada" }), { origin: "https://other.example" });
    const options = await generateAuthenticationOptions({ rpID: RP_ID, userVerification: "required" });
    expect(options.allowCredentials).toBeUndefined();

    const response = authenticator.getAssertion(options, { origin: ORIGIN });

    expect(response.id).toBe(credential.id);
    expect(Buffer.from(response.response.userHandle!, "base64url")).toEqual(Buffer.from(USER_ID));
    expect((await authenticate(credential, response, options.challenge)).verified).toBe(true);
  });

  it("is refused from another origin", async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await register(authenticator);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = authenticator.getAssertion(options, { origin: "http://localhost:5999" });
    await expect(authenticate(credential, response, options.challenge)).rejects.toThrow('Unexpected authentication response origin "http://localhost:5999"');
  });

  it("is refused for another rpId", async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await register(authenticator);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = authenticator.getAssertion(options, { origin: ORIGIN, rpId: "evil.example", credentialId: credential.id });
    await expect(authenticate(credential, response, options.challenge)).rejects.toThrow("Unexpected RP ID hash");
  });

  it("is refused without user verification when it is required", async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await register(authenticator);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = authenticator.getAssertion(options, { origin: ORIGIN, userVerified: false });
    await expect(authenticate(credential, response, options.challenge)).rejects.toThrow("User verification required");
  });

  // The library throws on a counter that does not go up (a cloned key's signal); it never returns verified: false for it.
  it("throws on a regressed or repeated counter", async () => {
    const authenticator = new SoftAuthenticator();
    const credential = { ...(await register(authenticator)), counter: 5 };
    for (const signCount of [4, 5]) {
      const options = await generateAuthenticationOptions({ rpID: RP_ID });
      const response = authenticator.getAssertion(options, { origin: ORIGIN, signCount });
      await expect(authenticate(credential, response, options.challenge)).rejects.toThrow(`Response counter value ${signCount} was lower than expected 5`);
    }
  });

  // Authenticators that keep no counter (many synced passkeys) always send 0: allowed while the stored one is 0.
  it("accepts a counter that stays 0 on both sides", async () => {
    const authenticator = new SoftAuthenticator();
    const credential = await register(authenticator);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const result = await authenticate(credential, authenticator.getAssertion(options, { origin: ORIGIN, signCount: 0 }), options.challenge);
    expect(result).toMatchObject({ verified: true, authenticationInfo: { newCounter: 0 } });
  });

  // verify* does not compare response.id with credential.id: the caller looks the credential up by response.id.
  it("answers verified: false, not an error, when checked against another credential's key", async () => {
    const authenticator = new SoftAuthenticator();
    const mine = await register(authenticator);
    const other = await register(new SoftAuthenticator());
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = authenticator.getAssertion(options, { origin: ORIGIN, credentialId: mine.id });
    expect((await authenticate(other, response, options.challenge)).verified).toBe(false);
  });
});
