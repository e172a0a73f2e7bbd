/** A registered passkey (WebAuthn credential) as stored: a public key only, nothing secret. */
export interface PasskeyRecord {
  /** Our row id, the one the API shows. */
  id: string;
  userId: string;
  /** base64url, as the browser's `credential.id`. */
  credentialId: string;
  /** COSE_Key bytes. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** The authenticator's signature counter; 0 for those that keep none (most synced passkeys). */
  counter: number;
  transports: string[];
  /** "singleDevice" or "multiDevice" (backup eligible). */
  deviceType: string;
  backupEligible: boolean;
  /** Backed up (synced) at its last use. */
  backupState: boolean;
  aaguid: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type NewPasskey = Omit<PasskeyRecord, "id" | "createdAt" | "lastUsedAt">;

export interface PasskeyRepo {
  /** The user's WebAuthn user handle (64 random bytes), made on first use: one per user, never the user id. */
  userHandle(userId: string): Promise<Uint8Array<ArrayBuffer>>;
  /** Who a user handle from an assertion belongs to. */
  userOfHandle(handle: Uint8Array): Promise<string | null>;
  listByUser(userId: string): Promise<PasskeyRecord[]>;
  countByUser(userId: string): Promise<number>;
  findByCredentialId(credentialId: string): Promise<PasskeyRecord | null>;
  /**
   * Stores a new passkey while `liveSession` is live, under the user row's lock (an account
   * claim takes it too). "duplicate" when the credential is registered already (to anyone).
   */
  add(passkey: NewPasskey, opts: { liveSession: string }): Promise<PasskeyRecord | "duplicate">;
  /**
   * Records a use: counter, backup state and last use, only while the stored counter is still
   * `expectedCounter` (two assertions racing with one counter cannot both pass).
   */
  recordUse(id: string, use: { expectedCounter: number; counter: number; backupState: boolean; at: Date }): Promise<boolean>;
  /** Null when the user has no passkey with this id. Only while `liveSession` is live (UNAUTHENTICATED otherwise). */
  rename(userId: string, id: string, name: string, opts: { liveSession: string }): Promise<PasskeyRecord | null>;
  /**
   * Removes one of the user's passkeys while `liveSession` is live; with `keepOne`, only while
   * another passkey of the user remains (decided under the user row's lock, so two removals
   * cannot take the last two). "changed" when a way in was removed since the user's
   * `waysInVersion` (the value `keepOne` was decided under): decide again.
   */
  remove(userId: string, id: string, opts: { keepOne: boolean; liveSession: string; waysInVersion: number }): Promise<"removed" | "not_found" | "last" | "changed">;
}

declare module "../../core/ports" {
  interface Repositories {
    passkeys: PasskeyRepo;
  }
}
