import { randomInt } from "node:crypto";
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import type { Clock } from "../../core/ports";
import type { RecoveryCodeRepo } from "./recovery-code.repo";

// argon2id, light enough to try ten codes per attempt (~10 ms), slow enough that a stolen
// table cannot be brute-forced offline (2^49 guesses per code). No server secret: key
// rotations never invalidate codes. 2 is Argon2id (a const enum, see password.hasher.ts).
const HASH_OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 4096, timeCost: 1, parallelism: 1 } as const;

// No 0/O, 1/I/L: codes get read aloud and typed from paper.
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const COUNT = 10;
const LENGTH = 10; // 31^10 ≈ 2^49.5 per code

/**
 * One-time recovery codes, shared by the TOTP method (which issues them and accepts them to
 * turn TOTP off) and the recovery-codes method (which signs in with them). Stored only as
 * slow salted hashes; each works once.
 */
export class RecoveryCodes {
  constructor(
    private readonly repo: RecoveryCodeRepo,
    private readonly clock: Clock,
  ) {}

  /** Ten new codes, shown once; every older code of the user stops working. */
  async issue(userId: string): Promise<string[]> {
    const codes = Array.from({ length: COUNT }, () => {
      const raw = Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
      return `${raw.slice(0, 5)}-${raw.slice(5)}`;
    });
    await this.repo.replaceAll(userId, await Promise.all(codes.map((c) => hash(normalize(c), HASH_OPTIONS))));
    return codes;
  }

  /** True once per code: marks it used. Case, spaces and dashes do not matter. */
  async consume(userId: string, code: string): Promise<boolean> {
    const given = normalize(code);
    if (given.length !== LENGTH) return false;
    for (const stored of await this.repo.listUnused(userId)) {
      if (await verify(stored.codeHash, given).catch(() => false)) return this.repo.markUsed(stored.id, this.clock.now());
    }
    return false;
  }

  remaining(userId: string): Promise<number> {
    return this.repo.countUnused(userId);
  }

  removeAll(userId: string): Promise<void> {
    return this.repo.removeAll(userId);
  }
}

const normalize = (code: string) => code.toUpperCase().replace(/[\s-]/g, "");
