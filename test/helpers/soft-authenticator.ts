import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { encodeCBOR, type CBORType } from "@levischuck/tiny-cbor";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";

/**
 * A software passkey authenticator for tests without a browser: what a platform
 * authenticator plus the browser's WebAuthn client would hand the page, as the JSON
 * `PublicKeyCredential.toJSON()` gives. ES256 (P-256) keys from node:crypto, attestation
 * `none`, resident (discoverable) credentials that always carry their user handle.
 *
 * It writes what it is told: tests can force a counter, turn user verification off, claim
 * another origin or rpId, or set backup flags a real device never would, and check the
 * server refuses.
 */
export class SoftAuthenticator {
  /** The AAGUID written into every credential's attested data (a fixed, recognisable one by default). */
  readonly aaguid: string;
  private readonly stored: SoftCredential[] = [];

  constructor(options: { aaguid?: string } = {}) {
    this.aaguid = options.aaguid ?? SOFT_AAGUID;
  }

  /** navigator.credentials.create({ publicKey }) on `origin`. */
  createCredential(options: PublicKeyCredentialCreationOptionsJSON, client: CreateOptions): RegistrationResponseJSON {
    if (!options.pubKeyCredParams.some((p) => p.type === "public-key" && p.alg === ES256)) {
      throw new Error("NotSupportedError: the options do not allow ES256 (-7), the only algorithm this authenticator has");
    }
    const rpId = client.rpId ?? options.rp.id ?? new URL(client.origin).hostname;
    const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
    if (this.stored.some((c) => c.rpId === rpId && excluded.has(c.id))) {
      throw new Error("InvalidStateError: this authenticator already holds a credential in excludeCredentials");
    }

    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const rawId = randomBytes(32);
    const credential: SoftCredential = {
      id: rawId.toString("base64url"),
      rpId,
      userHandle: options.user.id,
      userName: options.user.name,
      privateKey,
      publicKey: coseKey(publicKey),
      signCount: 0,
      backupEligible: client.backupEligible ?? false,
      backupState: client.backupState ?? false,
    };

    const attested = Buffer.concat([uuidBytes(this.aaguid), uint16(rawId.length), rawId, credential.publicKey]);
    const authData = authenticatorData(rpId, { ...flagsOf(client, credential), attested: true }, credential.signCount, attested);
    const clientDataJSON = clientData("webauthn.create", options.challenge, client.origin);
    const attestationObject = encodeCBOR(new Map<string, CBORType>([
      ["fmt", "none"],
      ["attStmt", new Map()],
      ["authData", authData],
    ]));
    // A failed ceremony keeps nothing, as on a real device.
    this.stored.push(credential);

    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key",
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: clientDataJSON.toString("base64url"),
        attestationObject: Buffer.from(attestationObject).toString("base64url"),
        authenticatorData: authData.toString("base64url"),
        transports: ["internal"],
        publicKeyAlgorithm: ES256,
        publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64url"),
      },
      clientExtensionResults: options.extensions?.credProps ? { credProps: { rk: true } } : {},
    };
  }

  /**
   * navigator.credentials.get({ publicKey }) on `origin`. With an empty or absent
   * `allowCredentials` (username-less sign-in, autofill) it picks the newest credential for
   * the rpId; `credentialId` picks one explicitly, listed or not.
   */
  getAssertion(options: PublicKeyCredentialRequestOptionsJSON, client: GetOptions): AuthenticationResponseJSON {
    const rpId = client.rpId ?? options.rpId ?? new URL(client.origin).hostname;
    const credential = this.pick(rpId, options, client.credentialId);
    // Counters only move forward on a device; a forced value stays, so the next one follows it.
    credential.signCount = client.signCount ?? credential.signCount + 1;
    if (client.backupState !== undefined) credential.backupState = client.backupState;

    const authData = authenticatorData(rpId, flagsOf(client, credential), credential.signCount);
    const clientDataJSON = clientData("webauthn.get", options.challenge, client.origin);
    const clientDataHash = createHash("sha256").update(clientDataJSON).digest();
    // ES256 in WebAuthn is an ASN.1 DER ECDSA signature, node's default encoding for EC keys.
    const signature = sign("sha256", Buffer.concat([authData, clientDataHash]), credential.privateKey);

    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key",
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: clientDataJSON.toString("base64url"),
        authenticatorData: authData.toString("base64url"),
        signature: signature.toString("base64url"),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
    };
  }

  /** What the authenticator holds (read-only views), newest last. */
  credentials(rpId?: string): readonly Readonly<SoftCredential>[] {
    return this.stored.filter((c) => rpId === undefined || c.rpId === rpId);
  }

  /** Forgets a credential, as when a user deletes a passkey on the device. */
  remove(credentialId: string): void {
    const at = this.stored.findIndex((c) => c.id === credentialId);
    if (at < 0) throw new Error(`no credential ${credentialId} on this authenticator`);
    this.stored.splice(at, 1);
  }

  private pick(rpId: string, options: PublicKeyCredentialRequestOptionsJSON, credentialId: string | undefined): SoftCredential {
    if (credentialId !== undefined) {
      const chosen = this.stored.find((c) => c.id === credentialId);
      if (!chosen) throw new Error(`no credential ${credentialId} on this authenticator`);
      return chosen;
    }
    const allowed = new Set((options.allowCredentials ?? []).map((c) => c.id));
    const candidates = this.stored.filter((c) => c.rpId === rpId && (allowed.size === 0 || allowed.has(c.id)));
    const chosen = candidates.at(-1);
    if (!chosen) throw new Error(`NotAllowedError: no credential for rpId ${rpId}${allowed.size ? " among allowCredentials" : ""}`);
    return chosen;
  }
}

/** One credential as the authenticator keeps it; `id` and `userHandle` are base64url. */
export interface SoftCredential {
  id: string;
  rpId: string;
  userHandle: string;
  userName: string;
  privateKey: KeyObject;
  /** The COSE_Key bytes, as registration hands them to the server. */
  publicKey: Uint8Array;
  signCount: number;
  backupEligible: boolean;
  backupState: boolean;
}

interface ClientOptions {
  /** The page's origin, written into clientDataJSON (the server must check it). */
  origin: string;
  /** The rpId whose hash goes into authenticatorData; default: the options' rp id, else the origin's host. */
  rpId?: string;
  /** UP flag; default true. */
  userPresent?: boolean;
  /** UV flag; default true (a platform authenticator with a PIN or biometric). */
  userVerified?: boolean;
}

export interface CreateOptions extends ClientOptions {
  /** BE flag, fixed for the credential's life; default false. */
  backupEligible?: boolean;
  /** BS flag; default false. */
  backupState?: boolean;
}

export interface GetOptions extends ClientOptions {
  /** Use this credential (base64url id), whatever allowCredentials says. */
  credentialId?: string;
  /** Report this counter instead of the next one (and continue from it). */
  signCount?: number;
  /** Change the credential's BS flag from now on (e.g. it got synced). */
  backupState?: boolean;
}

/** An AAGUID no real authenticator model has, so stored records show where a credential came from. */
export const SOFT_AAGUID = "50f7a5e0-50f7-4a5e-8000-50f7a5e050f7";

const ES256 = -7;

interface Flags {
  up: boolean;
  uv: boolean;
  be: boolean;
  bs: boolean;
  attested?: boolean;
}

function flagsOf(client: ClientOptions, credential: SoftCredential): Flags {
  return { up: client.userPresent ?? true, uv: client.userVerified ?? true, be: credential.backupEligible, bs: credential.backupState };
}

/** WebAuthn §6.1: rpIdHash(32) | flags(1) | signCount(4, big-endian) | attested credential data. */
function authenticatorData(rpId: string, flags: Flags, signCount: number, attested?: Buffer): Buffer {
  const bits = (flags.up ? 0x01 : 0) | (flags.uv ? 0x04 : 0) | (flags.be ? 0x08 : 0) | (flags.bs ? 0x10 : 0) | (flags.attested ? 0x40 : 0);
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(signCount);
  return Buffer.concat([createHash("sha256").update(rpId).digest(), Buffer.from([bits]), counter, attested ?? Buffer.alloc(0)]);
}

function clientData(type: "webauthn.create" | "webauthn.get", challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

/** RFC 9053 EC2 key: kty 2, alg -7, crv 1 (P-256), x, y. */
function coseKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: "jwk" });
  return encodeCBOR(new Map<number, number | Uint8Array>([
    [1, 2],
    [3, ES256],
    [-1, 1],
    [-2, Buffer.from(jwk.x!, "base64url")],
    [-3, Buffer.from(jwk.y!, "base64url")],
  ]));
}

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, "hex");
}

function uint16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
