/** A user's one-time recovery codes as stored: slow hashes only. */
export interface RecoveryCodeRepo {
  /** Replaces every code of the user with these hashes. */
  replaceAll(userId: string, codeHashes: string[]): Promise<void>;
  /** The user's unused codes, as stored (slow hashes). */
  listUnused(userId: string): Promise<Array<{ id: string; codeHash: string }>>;
  /** Marks a code used; false when it was used meanwhile (a concurrent use). */
  markUsed(id: string, now: Date): Promise<boolean>;
  countUnused(userId: string): Promise<number>;
  removeAll(userId: string): Promise<void>;
}

declare module "../../core/ports" {
  interface Repositories {
    recoveryCodes: RecoveryCodeRepo;
  }
}
