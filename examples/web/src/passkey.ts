import type { ApolloClient } from "@apollo/client";
import type { AuthFragment, PasskeyFragment } from "./gql/graphql";
import { AddPasskeyDocument, PasskeyAuthenticationOptionsDocument, PasskeyRegistrationOptionsDocument, VerifyPasskeyDocument } from "./operations";

/*
 * Passkeys with the browser's own WebAuthn API. The gateway hands out options as JSON and
 * takes the browser's answer as JSON: PublicKeyCredential.parse*OptionsFromJSON and
 * credential.toJSON() do the base64url conversions, so no WebAuthn library is needed here.
 */

/** Whether this browser can make and use passkeys here (WebAuthn with the JSON helpers, a secure context). */
export function passkeysSupported(): boolean {
  return typeof window !== "undefined" && window.isSecureContext && typeof window.PublicKeyCredential?.parseRequestOptionsFromJSON === "function";
}

/** Whether the browser can offer passkeys in a field's autofill (conditional mediation). */
export async function passkeyAutofillAvailable(): Promise<boolean> {
  if (!passkeysSupported()) return false;
  return (await PublicKeyCredential.isConditionalMediationAvailable?.().catch(() => false)) ?? false;
}

/** navigator.credentials.create with the gateway's creation options; the answer as the gateway wants it. */
export async function createCredential(optionsJson: string): Promise<string> {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(optionsJson));
  const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (!credential) throw new DOMException("No passkey was made.", "NotAllowedError");
  return JSON.stringify(credential.toJSON());
}

type GetOptions = { mediation?: CredentialMediationRequirement; signal?: AbortSignal };

/** navigator.credentials.get with the gateway's request options; the answer as the gateway wants it. */
export async function getCredential(optionsJson: string, { mediation, signal }: GetOptions = {}): Promise<string> {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(optionsJson));
  const credential = (await navigator.credentials.get({ publicKey, mediation, signal })) as PublicKeyCredential | null;
  if (!credential) throw new DOMException("No passkey was used.", "NotAllowedError");
  return JSON.stringify(credential.toJSON());
}

type Client = ApolloClient;

/** The gateway takes a challenge once: apollo.ts does not retry these after a refresh. */
const SINGLE_USE = { singleUse: true };

/** Options for a sign-in (signed out), the MFA step (mfaToken) or a step-up (signed in). */
export async function passkeyRequestOptions(client: Client, mfaToken?: string) {
  const { data } = await client.mutate({ mutation: PasskeyAuthenticationOptionsDocument, variables: { input: mfaToken ? { mfaToken } : null } });
  return data!.passkeyAuthenticationOptions;
}

/** Sends the browser's answer: signs in, finishes the MFA step, or steps the session up. */
export async function verifyPasskey(client: Client, challengeId: string, responseJson: string, mfaToken?: string): Promise<AuthFragment> {
  const { data } = await client.mutate({ mutation: VerifyPasskeyDocument, variables: { input: { challengeId, responseJson, mfaToken } }, context: SINGLE_USE });
  return data!.verifyPasskey;
}

/** The whole ceremony with the browser's prompt: options, the person picks a passkey, verify. */
export async function authenticateWithPasskey(client: Client, mfaToken?: string): Promise<AuthFragment> {
  const options = await passkeyRequestOptions(client, mfaToken);
  const responseJson = await getCredential(options.optionsJson);
  return verifyPasskey(client, options.challengeId, responseJson, mfaToken);
}

/** Makes a passkey for the signed-in account: options, the device makes it, the gateway keeps it. */
export async function registerPasskey(client: Client): Promise<PasskeyFragment> {
  const { data } = await client.mutate({ mutation: PasskeyRegistrationOptionsDocument });
  const { challengeId, optionsJson } = data!.passkeyRegistrationOptions;
  const responseJson = await createCredential(optionsJson);
  const added = await client.mutate({ mutation: AddPasskeyDocument, variables: { input: { challengeId, responseJson } }, context: SINGLE_USE });
  return added.data!.addPasskey;
}
