import type { KeyValueStore } from "../../src/core/ports";
import { PasskeyChallengeStore, passkeyChallengeKey, type PasskeyChallenge } from "../../src/methods/passkey/passkey-challenge.store";

export interface PasskeyChallengeStoreUnderTest {
  store: KeyValueStore;
  /** Lets `ms` pass for the store's TTLs (a moved clock in process, real time on Redis). */
  pass(ms: number): Promise<void>;
  cleanup: () => Promise<void>;
}

const TTL_SECONDS = 1;

const challenge = (overrides: Partial<PasskeyChallenge> = {}): PasskeyChallenge => ({
  purpose: "step_up",
  challenge: "Y2hhbGxlbmdl",
  userId: "8f0e2b52-4a63-4a43-9d7d-2d1c3a0e6a11",
  sessionId: "0b7d3c1e-9f1a-4c55-8a0e-6f1d2c3b4a59",
  ...overrides,
});

/**
 * What PasskeyChallengeStore promises, on Redis and the in-process store alike: a challenge
 * comes back once, exactly as put, to the first of any number of concurrent takers; never
 * after its TTL; and an id that is not ours never reaches the store.
 */
export function describePasskeyChallengeContract(name: string, makeStore: () => Promise<PasskeyChallengeStoreUnderTest>): void {
  describe(`PasskeyChallengeStore contract: ${name}`, () => {
    let subject: PasskeyChallengeStoreUnderTest;
    let challenges: PasskeyChallengeStore;
    beforeEach(async () => {
      subject = await makeStore();
      challenges = new PasskeyChallengeStore(subject.store, TTL_SECONDS);
    });
    afterEach(() => subject.cleanup());

    it("gives the challenge back as put, once", async () => {
      const put = challenge({ purpose: "mfa", mfaJti: "jti-1", sessionId: undefined });
      const id = await challenges.put(put);
      expect(await challenges.take(id)).toEqual(JSON.parse(JSON.stringify(put)));
      expect(await challenges.take(id)).toBeNull();
      expect(await subject.store.get(passkeyChallengeKey(id))).toBeNull();
    });

    it("gives each id its own challenge", async () => {
      const a = await challenges.put(challenge({ challenge: "YQ" }));
      const b = await challenges.put(challenge({ challenge: "Yg" }));
      expect(a).not.toBe(b);
      expect((await challenges.take(b))?.challenge).toBe("Yg");
      expect((await challenges.take(a))?.challenge).toBe("YQ");
    });

    it("hands one challenge to exactly one of 50 concurrent takers", async () => {
      const id = await challenges.put(challenge());
      const taken = await Promise.all(Array.from({ length: 50 }, () => challenges.take(id)));
      expect(taken.filter((t) => t !== null)).toHaveLength(1);
    });

    it("is gone once its TTL has passed, and there until then", async () => {
      const kept = await challenges.put(challenge());
      const expired = await challenges.put(challenge());
      await subject.pass(TTL_SECONDS * 1000 - 300);
      expect(await challenges.take(kept)).not.toBeNull();
      await subject.pass(400);
      expect(await challenges.take(expired)).toBeNull();
    });

    it("answers null for an unknown id, or one that is not a uuid", async () => {
      expect(await challenges.take("00000000-0000-4000-8000-000000000000")).toBeNull();
      expect(await challenges.take("*")).toBeNull();
      expect(await challenges.take("")).toBeNull();
    });
  });
}
