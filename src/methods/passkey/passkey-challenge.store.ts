import { randomUUID } from "node:crypto";
import type { KeyValueStore } from "../../core/ports";
import { takeOnce } from "../../core/take-once";

/** What a ceremony's challenge may finish: each one kind, for one user or session. */
export type ChallengePurpose = "register" | "sign_in" | "mfa" | "step_up";

export interface PasskeyChallenge {
  purpose: ChallengePurpose;
  /** base64url, as in the options the browser got (and in its clientDataJSON). */
  challenge: string;
  /** register, mfa and step_up: the user the ceremony is for. */
  userId?: string;
  /** register and step_up: the session that asked. */
  sessionId?: string;
  /** mfa: the mfaToken's id, so another token (or none) cannot finish it. */
  mfaJti?: string;
}

export const passkeyChallengeKey = (challengeId: string): string => `passkey:challenge:${challengeId}`;

/**
 * Ceremony challenges in the shared store: each taken once (the first of concurrent takes
 * gets it, the others nothing), gone after its TTL.
 */
export class PasskeyChallengeStore {
  constructor(
    private readonly store: KeyValueStore,
    private readonly ttlSeconds: number,
  ) {}

  /** Keeps the challenge; returns its id for the client to send back. */
  async put(challenge: PasskeyChallenge): Promise<string> {
    const id = randomUUID();
    await this.store.set(passkeyChallengeKey(id), JSON.stringify(challenge), this.ttlSeconds * 1000);
    return id;
  }

  /** The challenge, removed as it is read; null when unknown, expired or taken already. */
  async take(challengeId: string): Promise<PasskeyChallenge | null> {
    // Ids are ours (uuids): anything else never names a key, and is not sent to the store.
    if (!/^[0-9a-f-]{36}$/.test(challengeId)) return null;
    const raw = await this.store.run(takeOnce, [passkeyChallengeKey(challengeId)], []);
    return raw === null ? null : (JSON.parse(raw) as PasskeyChallenge);
  }
}
