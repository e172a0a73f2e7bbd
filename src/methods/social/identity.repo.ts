/** An account at an upstream provider, as stored (table `identities`). */
export interface IdentityRecord {
  id: string;
  userId: string;
  provider: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** Who the provider says signed in: (provider, subject) is the identity, the rest is what it last said. */
export interface ProviderProfile {
  provider: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
}

export type LinkOutcome = { status: "linked"; identity: IdentityRecord } | { status: "taken"; userId: string };

export interface IdentityRepo {
  find(provider: string, subject: string): Promise<IdentityRecord | null>;
  listByUser(userId: string): Promise<IdentityRecord[]>;
  /** Records a sign-in with it: lastUsedAt, and the email as the provider states it now. */
  touch(id: string, profile: ProviderProfile, now: Date): Promise<IdentityRecord>;
  /**
   * Attaches the identity to `userId`, or answers who holds it already (a concurrent
   * sign-in, or another account). With `liveSession` (completeLinkIdentity) only while that session is live.
   */
  attach(userId: string, profile: ProviderProfile, now: Date, opts?: { liveSession?: string }): Promise<LinkOutcome>;
  /**
   * A new account that has only this identity, in one transaction; null when the identity
   * was attached meanwhile (read it again).
   */
  createWithUser(profile: ProviderProfile, now: Date): Promise<IdentityRecord | null>;
  /**
   * Removes the user's identity while `liveSession` is live, only if no way in was removed
   * since the user's `waysInVersion` (the value the caller's "last way in" count saw): of two
   * concurrent removals, of any kind, the second finds it "changed" and counts again.
   */
  remove(id: string, userId: string, opts: { liveSession: string; waysInVersion: number }): Promise<"removed" | "missing" | "changed">;
}

declare module "../../core/ports" {
  interface Repositories {
    identities: IdentityRepo;
  }
}
