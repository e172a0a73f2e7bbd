import { availableParallelism } from "node:os";
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { concurrencyLimit } from "../../core/concurrency";

/** OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane. Runs on libuv's thread pool. */
// Algorithm is an ambient const enum (not importable as a value under isolatedModules): 2 is Argon2id.
const OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export class PasswordHasher {
  // As many hashes at once as there are cores: a login storm queues here instead of filling
  // libuv's pool, which slows each hash and leaves the event loop no core (healthz stalls).
  private readonly limit: ReturnType<typeof concurrencyLimit>;
  // Verified against when the account is unknown, so that costs the same time as a wrong
  // password; made at start so the first unknown email is not slower (two hashes) either.
  private readonly dummy: Promise<string>;

  /** `maxWaitMs`: how long a hash may wait for a core before its request answers UNAVAILABLE. */
  constructor({ maxWaitMs, concurrency = availableParallelism() }: { maxWaitMs?: number; concurrency?: number } = {}) {
    this.limit = concurrencyLimit(concurrency, { maxWaitMs, what: "password hashes" });
    this.dummy = this.hash("dummy password for timing equality");
  }

  hash(password: string): Promise<string> {
    return this.limit(() => hash(password, OPTIONS));
  }

  /** False for a wrong password; with `stored` null, burns the same time and is false. */
  async verify(stored: string | null, password: string): Promise<boolean> {
    const target = stored ?? (await this.dummy);
    // A malformed stored hash is a wrong password, never a 500; a storm's refusal is no
    // wrong password (it must not count against the account): it passes through.
    const ok = await this.limit(() => verify(target, password).catch(() => false));
    return ok && stored !== null;
  }
}
