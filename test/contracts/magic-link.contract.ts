import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { AtomicScript, KeyValueStore } from "../../src/core/ports";
import { consumeLink } from "../../src/methods/magic-link/magic-link.scripts";
import {
  EXPIRED_LINK_GRACE_MS,
  MagicLinkStore,
  magicLinkEmailKey,
  magicLinkEmailTag,
  magicLinkRequestKey,
  magicLinkTagKey,
  magicLinkTokenKey,
  magicLinkTokenRefKey,
  type LinkRequest,
  type NewLinkRequest,
} from "../../src/methods/magic-link/magic-link.store";
import type { ManualClock } from "./otp-challenge.contract";
import { inspectKey } from "../helpers/inspect-key";

/** Removes one field of a hash, as a request written by an older release would lack it. */
const dropField: AtomicScript<number> = {
  name: "test-drop-field",
  lua: "return redis.call('HDEL', KEYS[1], ARGV[1])",
  local: (redis, [key], [field]) => redis.hdel(key, field),
  parse: (reply) => Number(reply),
};

export interface MagicLinkStoreUnderTest {
  store: KeyValueStore;
  /** The clock the link store reads `now` from. */
  clock: ManualClock;
  cleanup: () => Promise<void>;
}

/** The raw reply of the consume script, to hold both twins to the same shape. */
const rawConsume: AtomicScript<unknown> = { ...consumeLink, parse: (reply) => reply };

const MATCH = "47";
const WRONG = "13";
const TTL_SECONDS = 300;
const MAX_ATTEMPTS = 5;

const sha256Hex = (value: string): string => createHash("sha256").update(value).digest("hex");

/**
 * What `MagicLinkStore` promises, run against Redis and the in-process store alike: the
 * states a link moves through, single use and the match-code limit under concurrency,
 * expiry, supersession by a newer request, and no token at rest.
 */
export function describeMagicLinkContract(name: string, makeStore: () => Promise<MagicLinkStoreUnderTest>): void {
  describe(`MagicLinkStore contract: ${name}`, () => {
    let subject: MagicLinkStoreUnderTest;
    let store: KeyValueStore;
    let clock: ManualClock;
    let links: MagicLinkStore;

    /** A request with fresh id, secrets and email unless told otherwise. */
    const request = (overrides: Partial<NewLinkRequest> = {}): NewLinkRequest => ({
      requestId: randomUUID(),
      token: randomBytes(32).toString("base64url"),
      listenToken: randomBytes(32).toString("base64url"),
      matchCode: MATCH,
      email: `${randomUUID()}@example.com`,
      ttlSeconds: TTL_SECONDS,
      redirectUrl: "https://app.example.com/welcome",
      clientState: "s-0Kq2vX9",
      userAgent: "Mozilla/5.0 (Macintosh) Firefox/130.0",
      ip: "203.0.113.7",
      ...overrides,
    });
    /** Where a request's hash is: beside its email's pointer, under the email's tag. */
    const requestKey = (r: NewLinkRequest): string => magicLinkRequestKey(magicLinkEmailTag(r.email), r.requestId);
    /** The request as the store should hand it back, in state `state`. */
    const expected = (r: NewLinkRequest, state: LinkRequest["state"], createdAt: number): LinkRequest => ({
      requestId: r.requestId,
      tag: magicLinkEmailTag(r.email),
      email: r.email,
      state,
      createdAt,
      expiresAt: createdAt + r.ttlSeconds * 1000,
      redirectUrl: r.redirectUrl,
      clientState: r.clientState ?? null,
      userAgent: r.userAgent,
      ip: r.ip,
    });
    const inspect = (key: string) => store.run(inspectKey, [key], []);
    const stateOf = async (requestId: string) => (await links.state(requestId))?.state;

    beforeEach(async () => {
      subject = await makeStore();
      ({ store, clock } = subject);
      links = new MagicLinkStore(store, clock, { maxMatchAttempts: MAX_ATTEMPTS });
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe("create", () => {
      it("starts the request PENDING with what the page shows", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        expect(await links.state(r.requestId)).toEqual(expected(r, "PENDING", createdAt));
      });

      it("keeps null redirectUrl, clientState, userAgent and ip as null", async () => {
        const r = request({ redirectUrl: null, clientState: null, userAgent: null, ip: null });
        await links.create(r);
        expect(await links.state(r.requestId)).toMatchObject({ redirectUrl: null, clientState: null, userAgent: null, ip: null });
      });

      it("reads a request stored before clientState existed (a rolling deploy) as one without it", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        await store.run(dropField, [requestKey(r)], ["clientState"]);
        expect(await links.consume(r.token, null)).toEqual({ status: "OK", request: { ...expected(r, "CONSUMED", createdAt), clientState: null }, matched: false });
      });

      it("uses a link issued before the tag was kept beside its id (a token index of the id alone), and keeps writing that one for older instances", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        // What an older release reads, and all it wrote.
        expect(await store.get(magicLinkTokenKey(r.token))).toBe(r.requestId);
        expect(await store.del(magicLinkTokenRefKey(r.token))).toBe(1);
        expect(await links.peek(r.token)).toEqual(expected(r, "PENDING", createdAt));
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "OK", request: expected(r, "CONFIRMED", createdAt), matched: true });
      });

      it("uses a link whose second token index is not as written, through the first", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        await store.set(magicLinkTokenRefKey(r.token), "no-space-here", TTL_SECONDS * 1000);
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "OK", request: expected(r, "CONFIRMED", createdAt), matched: true });
      });

      it("keeps request and token index for the grace period, the email pointer for the link's TTL", async () => {
        const r = request();
        await links.create(r);
        const kept = TTL_SECONDS * 1000 + EXPIRED_LINK_GRACE_MS;
        for (const [key, ttl] of [
          [requestKey(r), kept],
          [magicLinkTokenKey(r.token), kept],
          [magicLinkTokenRefKey(r.token), kept],
          [magicLinkTagKey(r.requestId), kept],
          [magicLinkEmailKey(r.email), TTL_SECONDS * 1000],
        ] as const) {
          const [exists, pttl] = await inspect(key);
          expect(exists).toBe(1);
          expect(pttl).toBeGreaterThan(ttl - 5_000);
          expect(pttl).toBeLessThanOrEqual(ttl);
        }
      });

      it("refuses a TTL, an id, secrets, a match code or an attempt limit that make no sense", async () => {
        await expect(links.create(request({ ttlSeconds: 0 }))).rejects.toThrow(RangeError);
        await expect(links.create(request({ requestId: "" }))).rejects.toThrow(RangeError);
        await expect(links.create(request({ token: "" }))).rejects.toThrow(RangeError);
        await expect(links.create(request({ listenToken: "" }))).rejects.toThrow(RangeError);
        await expect(links.create(request({ matchCode: "" }))).rejects.toThrow(RangeError);
        expect(() => new MagicLinkStore(store, clock, { maxMatchAttempts: 0 })).toThrow(RangeError);
        expect(() => new MagicLinkStore(store, clock, { maxMatchAttempts: 2.5 })).toThrow(RangeError);
      });

      it("replaces a request created again under the same id: the old token is spent", async () => {
        const r = request();
        await links.create(r);
        const again = request({ requestId: r.requestId, email: r.email });
        await links.create(again);
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "USED" });
        expect(await links.consume(again.token, MATCH)).toMatchObject({ status: "OK", matched: true });
      });
    });

    describe("open", () => {
      it("turns PENDING into OPENED, then leaves OPENED unchanged", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        expect(await links.open(r.token)).toEqual({ status: "OK", request: expected(r, "OPENED", createdAt), changed: true });
        expect(await links.open(r.token)).toEqual({ status: "OK", request: expected(r, "OPENED", createdAt), changed: false });
        expect(await stateOf(r.requestId)).toBe("OPENED");
      });

      it("answers UNKNOWN for a token never issued", async () => {
        expect(await links.open(randomBytes(32).toString("base64url"))).toEqual({ status: "UNKNOWN" });
      });

      it("answers USED once the link was used, and changes nothing", async () => {
        const r = request();
        await links.create(r);
        await links.consume(r.token, null);
        expect(await links.open(r.token)).toEqual({ status: "USED" });
        expect(await stateOf(r.requestId)).toBe("CONSUMED");
      });
    });

    describe("peek", () => {
      it("reads the request a token names without opening or using it", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        expect(await links.peek(r.token)).toEqual(expected(r, "PENDING", createdAt));
        expect(await stateOf(r.requestId)).toBe("PENDING");
        await links.consume(r.token, null);
        expect(await links.peek(r.token)).toEqual(expected(r, "CONSUMED", createdAt));
      });

      it("answers null for a token never issued, and EXPIRED once the link expired unused", async () => {
        expect(await links.peek(randomBytes(32).toString("base64url"))).toBeNull();
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        clock.advance(TTL_SECONDS * 1000);
        expect(await links.peek(r.token)).toEqual(expected(r, "EXPIRED", createdAt));
      });
    });

    describe("consume", () => {
      it("with the right match code confirms the request for the waiting device", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        await links.open(r.token);
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "OK", request: expected(r, "CONFIRMED", createdAt), matched: true });
        expect(await stateOf(r.requestId)).toBe("CONFIRMED");
      });

      it("without a match code signs in this device only: CONSUMED", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        expect(await links.consume(r.token, null)).toEqual({ status: "OK", request: expected(r, "CONSUMED", createdAt), matched: false });
        expect(await stateOf(r.requestId)).toBe("CONSUMED");
      });

      it("is single use: a second consume, open or deny answers USED", async () => {
        const r = request();
        await links.create(r);
        expect((await links.consume(r.token, MATCH)).status).toBe("OK");
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "USED" });
        expect(await links.consume(r.token, null)).toEqual({ status: "USED" });
        expect(await links.open(r.token)).toEqual({ status: "USED" });
        expect(await links.deny(r.token)).toEqual({ status: "USED" });
        expect(await stateOf(r.requestId)).toBe("CONFIRMED");
      });

      it("answers UNKNOWN for a token never issued", async () => {
        expect(await links.consume(randomBytes(32).toString("base64url"), MATCH)).toEqual({ status: "UNKNOWN" });
      });

      it("lets exactly one of 50 concurrent consumes with the right match code succeed", async () => {
        const r = request();
        await links.create(r);
        const results = await Promise.all(Array.from({ length: 50 }, () => links.consume(r.token, MATCH)));
        expect(results.filter((x) => x.status === "OK")).toHaveLength(1);
        expect(results.filter((x) => x.status === "USED")).toHaveLength(49);
        expect(await stateOf(r.requestId)).toBe("CONFIRMED");
      });
    });

    describe("wrong match codes", () => {
      it("count down the attempts, then DENY the request, after which even the right code is USED", async () => {
        const r = request();
        await links.create(r);
        await links.open(r.token);
        for (const attemptsRemaining of [4, 3, 2, 1]) {
          expect(await links.consume(r.token, WRONG)).toEqual({ status: "WRONG_MATCH", attemptsRemaining, requestId: r.requestId });
          expect(await stateOf(r.requestId)).toBe("OPENED");
        }
        expect(await links.consume(r.token, WRONG)).toEqual({ status: "DENIED", requestId: r.requestId });
        expect(await stateOf(r.requestId)).toBe("DENIED");
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "USED" });
        expect(await links.consume(r.token, null)).toEqual({ status: "USED" });
      });

      it("leave the link usable with the right code before the limit", async () => {
        const r = request();
        await links.create(r);
        await links.consume(r.token, WRONG);
        expect(await links.consume(r.token, "4")).toEqual({ status: "WRONG_MATCH", attemptsRemaining: 3, requestId: r.requestId });
        expect(await links.consume(r.token, `${MATCH}0`)).toEqual({ status: "WRONG_MATCH", attemptsRemaining: 2, requestId: r.requestId });
        expect(await links.consume(r.token, MATCH)).toMatchObject({ status: "OK", matched: true });
      });

      it("DENY at once with a limit of one", async () => {
        const strict = new MagicLinkStore(store, clock, { maxMatchAttempts: 1 });
        const r = request();
        await strict.create(r);
        expect(await strict.consume(r.token, WRONG)).toEqual({ status: "DENIED", requestId: r.requestId });
      });

      it("count exactly the limit out of 50 concurrent wrong codes; the rest are USED", async () => {
        const r = request();
        await links.create(r);
        const results = await Promise.all(Array.from({ length: 50 }, () => links.consume(r.token, WRONG)));
        const wrong = results.flatMap((x) => (x.status === "WRONG_MATCH" ? [x.attemptsRemaining] : []));
        expect(wrong.sort((a, b) => b - a)).toEqual([4, 3, 2, 1]);
        expect(results.filter((x) => x.status === "DENIED")).toHaveLength(1);
        expect(results.filter((x) => x.status === "USED")).toHaveLength(45);
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "USED" });
        const [, , fields] = await inspect(requestKey(r));
        expect(fields).toContain(`attempts=${MAX_ATTEMPTS}`);
      });
    });

    describe("deny", () => {
      it("turns a PENDING or OPENED request DENIED, once", async () => {
        const pending = request();
        const opened = request();
        await links.create(pending);
        await links.create(opened);
        await links.open(opened.token);
        expect(await links.deny(pending.token)).toEqual({ status: "OK", requestId: pending.requestId });
        expect(await links.deny(opened.token)).toEqual({ status: "OK", requestId: opened.requestId });
        expect(await stateOf(pending.requestId)).toBe("DENIED");
        expect(await stateOf(opened.requestId)).toBe("DENIED");
        expect(await links.deny(pending.token)).toEqual({ status: "USED" });
        expect(await links.consume(pending.token, MATCH)).toEqual({ status: "USED" });
        expect(await links.open(opened.token)).toEqual({ status: "USED" });
      });

      it("answers UNKNOWN for a token never issued", async () => {
        expect(await links.deny(randomBytes(32).toString("base64url"))).toEqual({ status: "UNKNOWN" });
      });
    });

    describe("expiry", () => {
      it("lets the link act until expiresAt", async () => {
        const r = request();
        await links.create(r);
        clock.advance(TTL_SECONDS * 1000 - 1);
        expect((await links.open(r.token)).status).toBe("OK");
        expect((await links.consume(r.token, MATCH)).status).toBe("OK");
      });

      it("reports EXPIRED on read once expiresAt has passed, without writing", async () => {
        const r = request();
        await links.create(r);
        clock.advance(TTL_SECONDS * 1000);
        expect(await stateOf(r.requestId)).toBe("EXPIRED");
        expect((await links.watch(r.requestId, r.listenToken))?.state).toBe("EXPIRED");
        const [, , fields] = await inspect(requestKey(r));
        expect(fields).toContain("state=PENDING");
      });

      it("answers EXPIRED to open, consume and deny, and marks the request EXPIRED", async () => {
        const r = request();
        await links.create(r);
        await links.open(r.token);
        clock.advance(TTL_SECONDS * 1000);
        expect(await links.open(r.token)).toEqual({ status: "EXPIRED" });
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "EXPIRED" });
        expect(await links.consume(r.token, null)).toEqual({ status: "EXPIRED" });
        expect(await links.deny(r.token)).toEqual({ status: "EXPIRED" });
        const [, , fields] = await inspect(requestKey(r));
        expect(fields).toContain("state=EXPIRED");
        expect(await stateOf(r.requestId)).toBe("EXPIRED");
      });

      it("answers EXPIRED once the email pointer has run out, even if the clock lags the store's", async () => {
        const r = request();
        await links.create(r);
        await store.del(magicLinkEmailKey(r.email));
        expect(await links.consume(r.token, MATCH)).toEqual({ status: "EXPIRED" });
        expect(await stateOf(r.requestId)).toBe("EXPIRED");
      });

      it("keeps a used request's state after it expires", async () => {
        const r = request();
        await links.create(r);
        await links.consume(r.token, MATCH);
        clock.advance(TTL_SECONDS * 1000);
        expect(await links.open(r.token)).toEqual({ status: "EXPIRED" });
        expect(await stateOf(r.requestId)).toBe("CONFIRMED");
      });
    });

    describe("a newer request for the same email", () => {
      it("supersedes the older link, which answers USED, while the newer works", async () => {
        const older = request();
        const newer = request({ email: older.email });
        await links.create(older);
        await links.create(newer);
        expect(await links.open(older.token)).toEqual({ status: "USED" });
        expect(await links.consume(older.token, MATCH)).toEqual({ status: "USED" });
        expect(await links.deny(older.token)).toEqual({ status: "USED" });
        expect((await links.open(newer.token)).status).toBe("OK");
        expect(await links.consume(newer.token, MATCH)).toMatchObject({ status: "OK", matched: true });
      });

      it("supersedes an older link that was already opened", async () => {
        const older = request();
        await links.create(older);
        await links.open(older.token);
        await links.create(request({ email: older.email }));
        expect(await links.consume(older.token, null)).toEqual({ status: "USED" });
      });

      it("leaves another email alone", async () => {
        const a = request();
        const b = request();
        await links.create(a);
        await links.create(b);
        expect((await links.consume(a.token, MATCH)).status).toBe("OK");
        expect((await links.consume(b.token, MATCH)).status).toBe("OK");
      });
    });

    describe("watch and state", () => {
      it("hand the request to the holder of the listen token only", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        expect(await links.watch(r.requestId, r.listenToken)).toEqual(expected(r, "PENDING", createdAt));
        expect(await links.watch(r.requestId, randomBytes(32).toString("base64url"))).toBeNull();
        expect(await links.watch(r.requestId, "")).toBeNull();
        expect(await links.watch(r.requestId, r.token)).toBeNull();
      });

      it("does not let one request's listen token watch another", async () => {
        const a = request();
        const b = request();
        await links.create(a);
        await links.create(b);
        expect(await links.watch(b.requestId, a.listenToken)).toBeNull();
      });

      it("follow the state as the link is opened and confirmed", async () => {
        const r = request();
        await links.create(r);
        await links.open(r.token);
        expect((await links.watch(r.requestId, r.listenToken))?.state).toBe("OPENED");
        await links.consume(r.token, MATCH);
        expect((await links.watch(r.requestId, r.listenToken))?.state).toBe("CONFIRMED");
      });

      it("answer null for an unknown request", async () => {
        const id = randomUUID();
        expect(await links.state(id)).toBeNull();
        expect(await links.watch(id, "anything")).toBeNull();
      });
    });

    describe("the waiting device's sealed session", () => {
      it("is handed out once", async () => {
        const r = request();
        await links.create(r);
        await links.consume(r.token, MATCH);
        await links.putAuth(r.requestId, "sealed-session");
        expect(await links.takeAuth(r.requestId)).toBe("sealed-session");
        expect(await links.takeAuth(r.requestId)).toBeNull();
        expect(await stateOf(r.requestId)).toBe("CONFIRMED");
      });

      it("is taken by exactly one of 20 concurrent takers", async () => {
        const r = request();
        await links.create(r);
        await links.putAuth(r.requestId, "sealed-session");
        const taken = await Promise.all(Array.from({ length: 20 }, () => links.takeAuth(r.requestId)));
        expect(taken.filter((t) => t !== null)).toEqual(["sealed-session"]);
      });

      it("keeps the request's TTL", async () => {
        const r = request();
        await links.create(r);
        await links.putAuth(r.requestId, "sealed-session");
        const [, pttl] = await inspect(requestKey(r));
        expect(pttl).toBeGreaterThan(TTL_SECONDS * 1000);
        expect(pttl).toBeLessThanOrEqual(TTL_SECONDS * 1000 + EXPIRED_LINK_GRACE_MS);
      });

      it("is not stored for an unknown request, and creates no key", async () => {
        const id = randomUUID();
        await links.putAuth(id, "sealed-session");
        expect(await inspect(magicLinkTagKey(id))).toEqual([0, -2, []]);
        expect(await links.takeAuth(id)).toBeNull();
        // Nor with a tag given (the request gone, its tag known).
        const tag = magicLinkEmailTag("gone@example.com");
        await links.putAuth(id, "sealed-session", tag);
        expect(await inspect(magicLinkRequestKey(tag, id))).toEqual([0, -2, []]);
        expect(await links.takeAuth(id, tag)).toBeNull();
      });

      it("is put and taken by the request's tag (from a read) as by its id alone", async () => {
        const r = request();
        await links.create(r);
        const consumed = await links.consume(r.token, MATCH);
        if (consumed.status !== "OK") throw new Error(consumed.status);
        expect(consumed.request.tag).toBe(magicLinkEmailTag(r.email));
        await links.putAuth(r.requestId, "sealed-session", consumed.request.tag);
        expect(await links.takeAuth(r.requestId, consumed.request.tag)).toBe("sealed-session");
        expect(await links.takeAuth(r.requestId)).toBeNull();
      });
    });

    describe("at rest", () => {
      it("holds only hashes of the token and the listen token, in values and key names", async () => {
        const r = request();
        await links.create(r);
        await links.open(r.token);
        await links.consume(r.token, WRONG);
        const keys = [requestKey(r), magicLinkTokenKey(r.token), magicLinkTokenRefKey(r.token), magicLinkEmailKey(r.email), magicLinkTagKey(r.requestId)];
        const values: string[] = [];
        for (const key of keys) {
          const [exists, , stored] = await inspect(key);
          expect(exists).toBe(1);
          values.push(...stored);
        }
        expect(values).toContain(`tokenHash=${sha256Hex(r.token)}`);
        expect(values).toContain(`listenHash=${sha256Hex(r.listenToken)}`);
        for (const secret of [r.token, r.listenToken]) {
          expect(values.filter((v) => v.includes(secret))).toEqual([]);
          expect(keys.filter((k) => k.includes(secret))).toEqual([]);
        }
        expect(keys.filter((k) => k.includes(r.email))).toEqual([]);
      });
    });

    describe("the consume script", () => {
      it("replies in the same raw shape on every store", async () => {
        const r = request();
        const createdAt = clock.now().getTime();
        await links.create(r);
        const keys = [requestKey(r), magicLinkEmailKey(r.email)];
        const args = (now: number) => [sha256Hex(r.token), r.requestId, now];
        const now = clock.now().getTime();
        expect(await store.run(rawConsume, keys, [...args(now), "1", WRONG])).toEqual(["WRONG_MATCH", 4]);
        expect(await store.run(rawConsume, keys, [...args(now), "1", "4"])).toEqual(["WRONG_MATCH", 3]);
        expect(await store.run(rawConsume, keys, [...args(now), "1", MATCH])).toEqual([
          "OK",
          1,
          [r.email, "CONFIRMED", String(createdAt), String(createdAt + TTL_SECONDS * 1000), r.redirectUrl, r.userAgent, r.ip, r.clientState],
        ]);
        expect(await store.run(rawConsume, keys, [...args(now), "1", MATCH])).toEqual(["USED"]);
        expect(await store.run(rawConsume, keys, [...args(now + TTL_SECONDS * 1000), "0", ""])).toEqual(["EXPIRED"]);
        expect(await store.run(rawConsume, [magicLinkRequestKey(magicLinkEmailTag(r.email), randomUUID()), keys[1]], [...args(now), "0", ""])).toEqual(["UNKNOWN"]);
      });
    });
  });
}
