/** A user's authenticator app as stored: the secret stays sealed outside the TOTP method. */
export interface TotpFactorRecord {
  userId: string;
  secretSealed: string;
  confirmedAt: Date | null;
  lastStep: number | null;
  driftSteps: number;
  driftStreak: number;
}

export interface TotpRepo {
  /** The confirmed factor; enrolments in progress live in the store until confirmed. */
  find(userId: string): Promise<TotpFactorRecord | null>;
  /** Stores a confirmed factor (replacing any) and turns TOTP on, in one transaction. */
  activate(userId: string, secretSealed: string, step: number, opts: { liveSession: string }): Promise<void>;
  /**
   * Records an accepted code's time step, only if it is later than the last accepted one
   * (one conditional UPDATE: two concurrent uses of one code cannot both pass).
   */
  acceptStep(userId: string, step: number, drift: { steps: number; streak: number }): Promise<boolean>;
  /** Stores the same secret sealed under the current key (after a key rotation). */
  reseal(userId: string, secretSealed: string): Promise<void>;
  /** Removes the factor and turns TOTP off for the user. */
  remove(userId: string): Promise<void>;
}

declare module "../../core/ports" {
  interface Repositories {
    totpFactors: TotpRepo;
  }
}
