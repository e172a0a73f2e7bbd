import { createHash, createHmac } from "node:crypto";
import type { Clock, KeyValueStore } from "../../core/ports";
import { EXTRA_FIELD_PREFIX, createChallenge, verifyChallenge } from "./otp-challenge.scripts";

/**
 * How long an expired challenge is kept so that a late submission answers EXPIRED
 * ("request a new code") rather than UNKNOWN.
 */
export const EXPIRED_CHALLENGE_GRACE_MS = 10 * 60_000;

/**
 * The Redis Cluster hash tag of one purpose and destination: its pointer and its
 * challenges carry it, so each script's keys sit in one slot. Hashed so that no address
 * appears in a key name.
 */
export const otpDestinationTag = (purpose: string, destination: string): string => `${purpose}:${createHash("sha256").update(destination).digest("base64url")}`;

/**
 * Names the newest challenge for a destination and purpose; a new code moves it, which
 * supersedes the older ones.
 */
export const otpDestinationKey = (purpose: string, destination: string): string => pointerKey(otpDestinationTag(purpose, destination));
const pointerKey = (tag: string): string => `otp:{${tag}}:current`;

/** The hash holding one challenge: { mac, attempts, max, expiresAt, purpose, ... }, beside its destination's pointer. */
export const otpChallengeKey = (tag: string, challengeId: string): string => `otp:{${tag}}:challenge:${challengeId}`;

/** Names the tag a challenge id lives under: verify is given the id alone. */
export const otpChallengeTagKey = (challengeId: string): string => `otp:tag:${challengeId}`;

/**
 * What the per-destination lock counts failures against: the pointer's name before it
 * had a hash tag, kept so the lock's windows carried on across that change.
 */
const lockSubject = (tag: string): string => `otp:current:${tag}`;

export interface NewOtpChallenge {
  challengeId: string;
  /** Never stored: only its HMAC, bound to the challenge id. */
  code: string;
  purpose: string;
  channel: string;
  /** Normalised email or E.164 number; the pointer is keyed by it as given. */
  destination: string;
  userId: string | null;
  ttlSeconds: number;
  maxAttempts: number;
  /** Handed back unchanged on success (e.g. the session that asked for an MFA code). */
  extra?: Record<string, string>;
}

/** What a successful verification hands back to the service. */
export interface VerifiedOtpChallenge {
  purpose: string;
  channel: string;
  destination: string;
  userId: string | null;
  extra: Record<string, string>;
}

export type VerifyResult =
  | { status: "OK"; challenge: VerifiedOtpChallenge }
  | { status: "INVALID"; attemptsRemaining: number; subject: string }
  | { status: "UNKNOWN" }
  | { status: "EXPIRED" }
  | { status: "TOO_MANY_ATTEMPTS" }
  | { status: "SUPERSEDED" };

/**
 * One-time-code challenges in the `KeyValueStore`: stored as an HMAC of the code, checked
 * and consumed in one atomic script, and superseded by the next code for the same
 * destination and purpose.
 */
export class OtpChallengeStore {
  constructor(
    private readonly store: KeyValueStore,
    private readonly clock: Clock,
    private readonly hmacKey: Buffer,
  ) {
    // A short key would make the stored MACs cheap to brute-force over the code space.
    if (hmacKey.length < 32) throw new RangeError(`the OTP HMAC key must be at least 32 bytes, got ${hmacKey.length}`);
  }

  async create(c: NewOtpChallenge): Promise<void> {
    if (c.challengeId === "") throw new RangeError("challengeId must not be empty");
    if (!Number.isFinite(c.ttlSeconds) || c.ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be positive, got ${c.ttlSeconds}`);
    if (!Number.isInteger(c.maxAttempts) || c.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, got ${c.maxAttempts}`);
    }
    const ttlMs = Math.ceil(c.ttlSeconds * 1000);
    const tag = otpDestinationTag(c.purpose, c.destination);
    const fields: Record<string, string> = {
      mac: this.macOf(c.challengeId, c.code),
      attempts: "0",
      max: String(c.maxAttempts),
      expiresAt: String(this.clock.now().getTime() + ttlMs),
      purpose: c.purpose,
      channel: c.channel,
      destination: c.destination,
      // A hash cannot hold null.
      userId: c.userId ?? "",
    };
    for (const [name, value] of Object.entries(c.extra ?? {})) fields[EXTRA_FIELD_PREFIX + name] = value;
    const keptMs = ttlMs + EXPIRED_CHALLENGE_GRACE_MS;
    // In another slot than the challenge, so not in its script; sent together (one round
    // trip). Either failing fails the request before any code is sent: a tag naming no
    // challenge, or a challenge no tag leads to, is only UNKNOWN.
    await Promise.all([
      this.store.set(otpChallengeTagKey(c.challengeId), tag, keptMs),
      this.store.run(createChallenge, [otpChallengeKey(tag, c.challengeId), pointerKey(tag)], [c.challengeId, keptMs, ...Object.entries(fields).flat()]),
    ]);
  }

  /**
   * Checks and consumes in one atomic step. `guard`, when given, runs first with the
   * challenge's subject (its purpose and destination, hashed): a per-destination lock can
   * refuse before the code is compared. INVALID answers carry the same subject.
   */
  async verify(challengeId: string, code: string, guard?: (subject: string) => Promise<void>): Promise<VerifyResult> {
    // The script needs the challenge's keys, named by its tag; an id keeps its tag, so this
    // read cannot go stale, and the script re-checks that the challenge still exists.
    const tagKey = otpChallengeTagKey(challengeId);
    const tag = await this.store.get(tagKey);
    if (tag === null) return { status: "UNKNOWN" };
    const subject = lockSubject(tag);
    await guard?.(subject);
    const reply = await this.store.run(
      verifyChallenge,
      [otpChallengeKey(tag, challengeId), pointerKey(tag)],
      [this.macOf(challengeId, code), challengeId, this.clock.now().getTime()],
    );
    // The challenge is gone: so is its tag, and the next try answers UNKNOWN before the guard.
    if (reply[0] === "OK" || reply[0] === "EXPIRED" || reply[0] === "SUPERSEDED" || reply[0] === "UNKNOWN") await this.store.del(tagKey);
    switch (reply[0]) {
      case "OK": {
        const [, purpose, channel, destination, userId, extraFlat] = reply;
        const extra: Record<string, string> = {};
        for (let i = 0; i < extraFlat.length; i += 2) extra[extraFlat[i]] = extraFlat[i + 1];
        return { status: "OK", challenge: { purpose, channel, destination, userId: userId === "" ? null : userId, extra } };
      }
      case "INVALID":
        return { status: "INVALID", attemptsRemaining: reply[1], subject };
      default:
        return { status: reply[0] };
    }
  }

  /** Binds the code to its challenge, so a code never verifies another challenge. */
  private macOf(challengeId: string, code: string): string {
    return createHmac("sha256", this.hmacKey).update(`${challengeId}:${code}`).digest("hex");
  }
}
