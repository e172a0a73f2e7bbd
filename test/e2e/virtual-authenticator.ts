import type { CDPSession, Page } from "playwright-core";

/**
 * A passkey device for the browser tests: Chromium's own WebAuthn stack with a virtual
 * authenticator behind it (DevTools protocol, WebAuthn domain), so the page's
 * navigator.credentials.create/get run the real browser path with no prompt. By default a
 * platform authenticator (CTAP 2.1, transport internal) with resident keys and user
 * verification that always succeeds, like a phone or laptop with a biometric.
 */
export interface VirtualAuthenticator {
  /** The DevTools id of this authenticator. */
  readonly authenticatorId: string;
  /** The credentials it holds, with `id` as the server sees it (base64url). */
  credentials(): Promise<VirtualCredential[]>;
  /** Makes later user-verification attempts succeed or fail. */
  setUserVerified(isUserVerified: boolean): Promise<void>;
  /** Detaches the authenticator (its credentials go with it) and the DevTools session. */
  remove(): Promise<void>;
}

/** A credential as `WebAuthn.getCredentials` reports it (binary fields in standard base64), plus `id`. */
export type VirtualCredential = Awaited<ReturnType<typeof listCredentials>>[number] & { id: string };

/** What can differ from the default device; the names are the protocol's `VirtualAuthenticatorOptions`. */
export interface VirtualAuthenticatorOptions {
  hasResidentKey?: boolean;
  hasUserVerification?: boolean;
  isUserVerified?: boolean;
  automaticPresenceSimulation?: boolean;
  /** BE and BS of new credentials: true, true for a synced passkey. */
  defaultBackupEligibility?: boolean;
  defaultBackupState?: boolean;
}

export async function addVirtualAuthenticator(page: Page, options: VirtualAuthenticatorOptions = {}): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  // enableUI false: no account chooser or prompt that would wait for a click.
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      ctap2Version: "ctap2_1",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      ...options,
    },
  });
  return {
    authenticatorId,
    async credentials() {
      const credentials = await listCredentials(cdp, authenticatorId);
      return credentials.map((c) => ({ ...c, id: Buffer.from(c.credentialId, "base64").toString("base64url") }));
    },
    async setUserVerified(isUserVerified) {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified });
    },
    async remove() {
      await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
      await cdp.detach();
    },
  };
}

async function listCredentials(cdp: CDPSession, authenticatorId: string) {
  return (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
}
