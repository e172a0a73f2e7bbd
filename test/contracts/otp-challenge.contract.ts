import { createHmac, randomBytes, randomUUID } from "node:crypto";
import type { AtomicScript, Clock, KeyValueStore } from "../../src/core/ports";
import { verifyChallenge } from "../../src/methods/otp/otp-challenge.scripts";
import {
  EXPIRED_CHALLENGE_GRACE_MS,
  OtpChallengeStore,
  otpChallengeKey,
  otpChallengeTagKey,
  otpDestinationKey,
  otpDestinationTag,
  type NewOtpChallenge,
} from "../../src/methods/otp/otp-challenge.store";
import { inspectKey } from "../helpers/inspect-key";

/** A clock the test moves by hand, so expiry is tested without sleeping. */
export class ManualClock implements Clock {
  constructor(private ms = Date.now()) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface OtpStoreUnderTest {
  store: KeyValueStore;
  /** The clock the challenge store reads `now` from. */
  clock: ManualClock;
  cleanup: () => Promise<void>;
}

/** The raw reply of the verify script, to hold both twins to the same shape. */
const rawVerify: AtomicScript<unknown> = { ...verifyChallenge, parse: (reply) => reply };

/** Ten digits, so a code cannot turn up by chance inside a hex MAC or a UUID. */
const CODE = "4185029376";
const WRONG = "9999999999";

/**
 * What `OtpChallengeStore` promises, run against Redis and the in-process store alike:
 * single use, the attempt limit under concurrency, expiry, supersession, and no code at rest.
 */
export function describeOtpChallengeContract(name: string, makeStore: () => Promise<OtpStoreUnderTest>): void {
  describe(`OtpChallengeStore contract: ${name}`, () => {
    let subject: OtpStoreUnderTest;
    let store: KeyValueStore;
    let clock: ManualClock;
    let hmacKey: Buffer;
    let challenges: OtpChallengeStore;

    /** A challenge with a fresh id and destination unless told otherwise. */
    const challenge = (overrides: Partial<NewOtpChallenge> = {}): NewOtpChallenge => ({
      challengeId: randomUUID(),
      code: CODE,
      purpose: "SIGN_IN",
      channel: "EMAIL",
      destination: `${randomUUID()}@example.com`,
      userId: null,
      ttlSeconds: 300,
      maxAttempts: 5,
      ...overrides,
    });
    const inspect = (key: string) => store.run(inspectKey, [key], []);
    const challengeKey = (c: NewOtpChallenge) => otpChallengeKey(otpDestinationTag(c.purpose, c.destination), c.challengeId);

    beforeEach(async () => {
      subject = await makeStore();
      ({ store, clock } = subject);
      hmacKey = randomBytes(32);
      challenges = new OtpChallengeStore(store, clock, hmacKey);
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe("the right code", () => {
      it("verifies once, hands back the challenge, then is unknown", async () => {
        const c = challenge({ userId: "user-1", channel: "SMS", destination: "+447700900123", extra: { sessionId: "s-1", aal: "aal1" } });
        await challenges.create(c);
        expect(await challenges.verify(c.challengeId, CODE)).toEqual({
          status: "OK",
          challenge: { purpose: "SIGN_IN", channel: "SMS", destination: "+447700900123", userId: "user-1", extra: { aal: "aal1", sessionId: "s-1" } },
        });
        expect(await challenges.verify(c.challengeId, CODE)).toEqual({ status: "UNKNOWN" });
      });

      it("hands back a null userId and empty extra when there were none", async () => {
        const c = challenge();
        await challenges.create(c);
        expect(await challenges.verify(c.challengeId, CODE)).toEqual({
          status: "OK",
          challenge: { purpose: "SIGN_IN", channel: "EMAIL", destination: c.destination, userId: null, extra: {} },
        });
      });

      it("deletes the challenge and its destination pointer on success", async () => {
        const c = challenge();
        await challenges.create(c);
        await challenges.verify(c.challengeId, CODE);
        expect(await inspect(challengeKey(c))).toEqual([0, -2, []]);
        expect(await inspect(otpDestinationKey(c.purpose, c.destination))).toEqual([0, -2, []]);
        expect(await inspect(otpChallengeTagKey(c.challengeId))).toEqual([0, -2, []]);
      });

      it("lets exactly one of 50 concurrent verifications succeed", async () => {
        const c = challenge();
        await challenges.create(c);
        const results = await Promise.all(Array.from({ length: 50 }, () => challenges.verify(c.challengeId, CODE)));
        expect(results.filter((r) => r.status === "OK")).toHaveLength(1);
        expect(results.filter((r) => r.status === "UNKNOWN")).toHaveLength(49);
      });
    });

    describe("an unknown challenge", () => {
      it("answers UNKNOWN for an id never created", async () => {
        expect(await challenges.verify(randomUUID(), CODE)).toEqual({ status: "UNKNOWN" });
      });
    });

    describe("wrong codes", () => {
      it("count down the attempts, then refuse even the right code", async () => {
        const c = challenge({ maxAttempts: 3 });
        await challenges.create(c);
        for (const attemptsRemaining of [2, 1, 0]) {
          expect(await challenges.verify(c.challengeId, WRONG)).toEqual({ status: "INVALID", attemptsRemaining, subject: expect.any(String) });
        }
        expect(await challenges.verify(c.challengeId, CODE)).toEqual({ status: "TOO_MANY_ATTEMPTS" });
        expect(await challenges.verify(c.challengeId, WRONG)).toEqual({ status: "TOO_MANY_ATTEMPTS" });
      });

      it("leave a tombstone without the MAC after the last allowed failure, with its TTL", async () => {
        const c = challenge({ maxAttempts: 1 });
        await challenges.create(c);
        expect(await challenges.verify(c.challengeId, WRONG)).toEqual({ status: "INVALID", attemptsRemaining: 0, subject: expect.any(String) });
        const [exists, ttl, fields] = await inspect(challengeKey(c));
        expect(exists).toBe(1);
        expect(ttl).toBeGreaterThan(0);
        expect(fields.some((f) => f.startsWith("mac="))).toBe(false);
        expect(fields).toContain("attempts=1");
      });

      it("name the destination's lock subject as before the keys had hash tags, so its windows carry on", async () => {
        const c = challenge();
        await challenges.create(c);
        expect(await challenges.verify(c.challengeId, WRONG)).toMatchObject({ status: "INVALID", subject: `otp:current:${otpDestinationTag(c.purpose, c.destination)}` });
      });

      it("keep a challenge's TTL while counting", async () => {
        const c = challenge();
        await challenges.create(c);
        await challenges.verify(c.challengeId, WRONG);
        const [, ttl] = await inspect(challengeKey(c));
        expect(ttl).toBeGreaterThan(c.ttlSeconds * 1000);
      });

      it("count exactly the attempt limit out of 50 concurrent wrong codes", async () => {
        const c = challenge({ maxAttempts: 5 });
        await challenges.create(c);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => challenges.verify(c.challengeId, `${1_000_000_000 + i}`)));
        const invalid = results.flatMap((r) => (r.status === "INVALID" ? [r.attemptsRemaining] : []));
        expect(invalid.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
        expect(results.filter((r) => r.status === "TOO_MANY_ATTEMPTS")).toHaveLength(45);
        expect(await challenges.verify(c.challengeId, CODE)).toEqual({ status: "TOO_MANY_ATTEMPTS" });
      });
    });

    describe("expiry", () => {
      it("accepts the code until expiresAt", async () => {
        const c = challenge({ ttlSeconds: 1 });
        await challenges.create(c);
        clock.advance(999);
        expect((await challenges.verify(c.challengeId, CODE)).status).toBe("OK");
      });

      it("answers EXPIRED once the TTL is over, whatever the code, then forgets it", async () => {
        const c = challenge({ ttlSeconds: 1 });
        await challenges.create(c);
        clock.advance(1_000);
        expect(await challenges.verify(c.challengeId, WRONG)).toEqual({ status: "EXPIRED" });
        expect(await challenges.verify(c.challengeId, CODE)).toEqual({ status: "UNKNOWN" });
        expect(await inspect(otpDestinationKey(c.purpose, c.destination))).toEqual([0, -2, []]);
      });

      it("answers EXPIRED for the right code too", async () => {
        const c = challenge({ ttlSeconds: 1 });
        await challenges.create(c);
        clock.advance(1_500);
        expect(await challenges.verify(c.challengeId, CODE)).toEqual({ status: "EXPIRED" });
      });

      it("keeps challenge and pointer for the grace period beyond the code's TTL", async () => {
        const c = challenge({ ttlSeconds: 60 });
        await challenges.create(c);
        const keep = 60_000 + EXPIRED_CHALLENGE_GRACE_MS;
        for (const key of [challengeKey(c), otpDestinationKey(c.purpose, c.destination), otpChallengeTagKey(c.challengeId)]) {
          const [exists, ttl] = await inspect(key);
          expect(exists).toBe(1);
          expect(ttl).toBeGreaterThan(keep - 5_000);
          expect(ttl).toBeLessThanOrEqual(keep);
        }
      });
    });

    describe("a newer code for the same destination", () => {
      it("supersedes the older one, which is then forgotten, while the newer works", async () => {
        const older = challenge();
        const newer = challenge({ destination: older.destination, code: "1231231231" });
        await challenges.create(older);
        await challenges.create(newer);
        expect(await challenges.verify(older.challengeId, CODE)).toEqual({ status: "SUPERSEDED" });
        expect(await challenges.verify(older.challengeId, CODE)).toEqual({ status: "UNKNOWN" });
        expect((await challenges.verify(newer.challengeId, "1231231231")).status).toBe("OK");
      });

      it("leaves another purpose for the same destination alone", async () => {
        const mfa = challenge({ purpose: "MFA" });
        const signIn = challenge({ purpose: "SIGN_IN", destination: mfa.destination });
        await challenges.create(mfa);
        await challenges.create(signIn);
        expect((await challenges.verify(mfa.challengeId, CODE)).status).toBe("OK");
        expect((await challenges.verify(signIn.challengeId, CODE)).status).toBe("OK");
      });

      it("leaves another destination alone", async () => {
        const a = challenge();
        const b = challenge();
        await challenges.create(a);
        await challenges.create(b);
        expect((await challenges.verify(a.challengeId, CODE)).status).toBe("OK");
        expect((await challenges.verify(b.challengeId, CODE)).status).toBe("OK");
      });
    });

    describe("the MAC", () => {
      it("is all that is stored of the code, keyed and bound to the challenge", async () => {
        const c = challenge({ userId: "user-1", extra: { next: "mfa" } });
        await challenges.create(c);
        const [, , fields] = await inspect(challengeKey(c));
        const mac = createHmac("sha256", hmacKey).update(`${c.challengeId}:${CODE}`).digest("hex");
        const expiresAt = clock.now().getTime() + 300_000;
        const pointer = otpDestinationKey(c.purpose, c.destination);
        expect(fields).toEqual(
          [
            `mac=${mac}`,
            "attempts=0",
            "max=5",
            `expiresAt=${expiresAt}`,
            "purpose=SIGN_IN",
            "channel=EMAIL",
            `destination=${c.destination}`,
            "userId=user-1",
            "extra:next=mfa",
          ].sort(),
        );
        expect(await inspect(pointer)).toEqual([1, expect.any(Number), [c.challengeId]]);
        expect([...fields, c.challengeId, pointer].filter((v) => v.includes(CODE))).toEqual([]);
      });

      it("does not let one challenge's code verify another", async () => {
        const a = challenge({ code: "1111111111" });
        const b = challenge({ code: "2222222222" });
        await challenges.create(a);
        await challenges.create(b);
        expect(await challenges.verify(b.challengeId, "1111111111")).toEqual({ status: "INVALID", attemptsRemaining: 4, subject: expect.any(String) });
        expect(await challenges.verify(a.challengeId, "2222222222")).toEqual({ status: "INVALID", attemptsRemaining: 4, subject: expect.any(String) });
        expect((await challenges.verify(a.challengeId, "1111111111")).status).toBe("OK");
        expect((await challenges.verify(b.challengeId, "2222222222")).status).toBe("OK");
      });

      it("differs between challenges with the same code", async () => {
        const a = challenge();
        const b = challenge();
        await challenges.create(a);
        await challenges.create(b);
        const macOf = async (c: NewOtpChallenge) => (await inspect(challengeKey(c)))[2].find((f) => f.startsWith("mac="));
        expect(await macOf(a)).not.toEqual(await macOf(b));
      });

      it("is checked against another HMAC key as wrong", async () => {
        const c = challenge();
        await challenges.create(c);
        const otherKey = new OtpChallengeStore(store, clock, randomBytes(32));
        expect(await otherKey.verify(c.challengeId, CODE)).toEqual({ status: "INVALID", attemptsRemaining: 4, subject: expect.any(String) });
      });
    });

    describe("the verify script", () => {
      it("replies in the same raw shape on every store", async () => {
        const c = challenge({ userId: null, extra: { b: "2", a: "1" } });
        await challenges.create(c);
        const keys = [challengeKey(c), otpDestinationKey(c.purpose, c.destination)];
        const now = clock.now().getTime();
        expect(await store.run(rawVerify, keys, ["f".repeat(64), c.challengeId, now])).toEqual(["INVALID", 4]);
        expect(await store.run(rawVerify, keys, ["short", c.challengeId, now])).toEqual(["INVALID", 3]);
        const mac = createHmac("sha256", hmacKey).update(`${c.challengeId}:${CODE}`).digest("hex");
        expect(await store.run(rawVerify, keys, [mac, c.challengeId, now])).toEqual([
          "OK",
          "SIGN_IN",
          "EMAIL",
          c.destination,
          "",
          ["a", "1", "b", "2"],
        ]);
        expect(await store.run(rawVerify, keys, [mac, c.challengeId, now])).toEqual(["UNKNOWN"]);
      });
    });

    describe("create", () => {
      it("refuses a TTL, an attempt limit or an id that make no sense", async () => {
        await expect(challenges.create(challenge({ ttlSeconds: 0 }))).rejects.toThrow(RangeError);
        await expect(challenges.create(challenge({ maxAttempts: 0 }))).rejects.toThrow(RangeError);
        await expect(challenges.create(challenge({ maxAttempts: 2.5 }))).rejects.toThrow(RangeError);
        await expect(challenges.create(challenge({ challengeId: "" }))).rejects.toThrow(RangeError);
      });

      it("refuses an HMAC key shorter than 32 bytes", () => {
        expect(() => new OtpChallengeStore(store, clock, randomBytes(16))).toThrow(RangeError);
      });

      it("replaces a challenge created again under the same id", async () => {
        const c = challenge();
        await challenges.create(c);
        await challenges.verify(c.challengeId, WRONG);
        await challenges.create({ ...c, code: "5555555555" });
        expect(await challenges.verify(c.challengeId, CODE)).toEqual({ status: "INVALID", attemptsRemaining: 4, subject: expect.any(String) });
        expect((await challenges.verify(c.challengeId, "5555555555")).status).toBe("OK");
      });
    });
  });
}
