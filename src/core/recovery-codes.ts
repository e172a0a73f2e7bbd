import { createHmac, randomInt } from "node:crypto";
import type { Clock, RecoveryCodeRepo } from "./ports";

// No 0/O, 1/I/L: codes get read aloud and typed from paper.
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const COUNT = 10;
const LENGTH = 10; // 31^10 ≈ 2^49.5 per code

/**
 * One-time recovery codes, shared by the TOTP method (which issues them and accepts them to
 * turn TOTP off) and the recovery-codes method (which signs in with them). Stored only as
 * HMACs under a server secret, so a stolen table cannot be brute-forced offline.
 */
export class RecoveryCodes {
  constructor(
    private readonly repo: RecoveryCodeRepo,
    private readonly secret: Buffer,
    private readonly clock: Clock,
  ) {}

  /** Ten new codes, shown once; every older code of the user stops working. */
  async issue(userId: string): Promise<string[]> {
    const codes = Array.from({ length: COUNT }, () => {
      const raw = Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
      return `${raw.slice(0, 5)}-${raw.slice(5)}`;
    });
    await this.repo.replaceAll(userId, codes.map((c) => this.hash(userId, c)));
    return codes;
  }

  /** True once per code: marks it used. Case, spaces and dashes do not matter. */
  consume(userId: string, code: string): Promise<boolean> {
    return this.repo.consume(userId, this.hash(userId, code), this.clock.now());
  }

  remaining(userId: string): Promise<number> {
    return this.repo.countUnused(userId);
  }

  removeAll(userId: string): Promise<void> {
    return this.repo.removeAll(userId);
  }

  private hash(userId: string, code: string): string {
    const normalized = code.toUpperCase().replace(/[\s-]/g, "");
    return createHmac("sha256", this.secret).update(`${userId}:${normalized}`).digest("hex");
  }
}
