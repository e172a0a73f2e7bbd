import { createHash } from "node:crypto";
import { safeEqual } from "../../core/text";
import { hashToken } from "../../sessions/tokens";
import type { Clock, KeyValueStore } from "../../core/ports";
import {
  SNAPSHOT_FIELDS,
  consumeLink,
  createLinkRequest,
  denyLink,
  openLink,
  putLinkAuth,
  readLinkRequest,
  takeLinkAuth,
  type RequestSnapshot,
} from "./magic-link.scripts";

/**
 * How long a request (and its token index) outlives its link, so that a late click or
 * a late read answers EXPIRED ("request a new link") rather than UNKNOWN.
 */
export const EXPIRED_LINK_GRACE_MS = 10 * 60_000;

/**
 * The Redis Cluster hash tag of one email: its pointer and its requests carry it, so each
 * script's keys sit in one slot. Hashed so that no address appears in a key name. The
 * email is used as given: the service normalises it.
 */
export const magicLinkEmailTag = (email: string): string => createHash("sha256").update(email).digest("base64url");

/** The hash holding one request: { tokenHash, listenHash, matchCode, state, attempts, ... }, beside its email's pointer. */
export const magicLinkRequestKey = (tag: string, requestId: string): string => `ml:{${tag}}:request:${requestId}`;

/** Names the newest request for an email; a new request moves it, which supersedes the older links. */
export const magicLinkEmailKey = (email: string): string => pointerKey(magicLinkEmailTag(email));
const pointerKey = (tag: string): string => `ml:{${tag}}:current`;

/** Names the request a link's token belongs to; keyed by the token's hash, never the token. */
export const magicLinkTokenKey = (token: string): string => `ml:token:${hashToken(token)}`;

/**
 * The same, with the request's tag beside its id ("requestId tag"): a click finds the
 * request without looking its tag up. magicLinkTokenKey is still written beside it, since
 * older releases read only that one (in a rolling deploy a link one instance sends, another
 * may open); a link issued by an older release has only that one. Writing it can stop once
 * no release older than this one runs.
 */
export const magicLinkTokenRefKey = (token: string): string => `ml:token-ref:${hashToken(token)}`;

/** Names the tag a request id lives under: the waiting device knows the id alone. */
export const magicLinkTagKey = (requestId: string): string => `ml:tag:${requestId}`;

export type LinkState = "PENDING" | "OPENED" | "CONFIRMED" | "CONSUMED" | "DENIED" | "EXPIRED";

export interface LinkRequest {
  requestId: string;
  /** Its hash tag (magicLinkEmailTag of its email): names its key without a lookup. */
  tag: string;
  email: string;
  state: LinkState;
  /** ms since the epoch, by the store's clock. */
  createdAt: number;
  expiresAt: number;
  redirectUrl: string | null;
  /** The client's value, echoed in the redirect so it can tell its own links from others'. */
  clientState: string | null;
  userAgent: string | null;
  ip: string | null;
}

/**
 * Why a link cannot act: UNKNOWN (never issued, or forgotten after the grace period),
 * EXPIRED, or USED (already consumed or denied, or superseded by a newer request for the
 * same email: to its holder a superseded link is as spent as a used one).
 */
export type LinkMiss = { status: "UNKNOWN" | "EXPIRED" | "USED" };

export interface NewLinkRequest {
  requestId: string;
  /** The link's secret; only its SHA-256 is stored. */
  token: string;
  /** The waiting device's secret; only its SHA-256 is stored. */
  listenToken: string;
  matchCode: string;
  email: string;
  ttlSeconds: number;
  redirectUrl: string | null;
  clientState?: string | null;
  userAgent: string | null;
  ip: string | null;
}

export type OpenResult = { status: "OK"; request: LinkRequest; changed: boolean } | LinkMiss;

export type ConsumeResult =
  | { status: "OK"; request: LinkRequest; matched: boolean }
  | { status: "WRONG_MATCH"; attemptsRemaining: number; requestId: string }
  | { status: "DENIED"; requestId: string }
  | LinkMiss;

export type DenyResult = { status: "OK"; requestId: string } | LinkMiss;

/**
 * Magic-link requests in the `KeyValueStore`: the link's token and the waiting device's
 * listen token stored only as SHA-256, every state change (open, consume, deny) made in
 * one atomic script, and a newer request for the same email superseding the older links.
 */
export class MagicLinkStore {
  private readonly maxMatchAttempts: number;

  constructor(
    private readonly store: KeyValueStore,
    private readonly clock: Clock,
    opts: { maxMatchAttempts: number },
  ) {
    if (!Number.isInteger(opts.maxMatchAttempts) || opts.maxMatchAttempts < 1) {
      throw new RangeError(`maxMatchAttempts must be a positive integer, got ${opts.maxMatchAttempts}`);
    }
    this.maxMatchAttempts = opts.maxMatchAttempts;
  }

  async create(r: NewLinkRequest): Promise<void> {
    if (r.requestId === "") throw new RangeError("requestId must not be empty");
    // An empty secret would hash to a well-known value anyone can present.
    if (r.token === "" || r.listenToken === "") throw new RangeError("token and listenToken must not be empty");
    if (r.matchCode === "") throw new RangeError("matchCode must not be empty");
    if (!Number.isFinite(r.ttlSeconds) || r.ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be positive, got ${r.ttlSeconds}`);
    const ttlMs = Math.ceil(r.ttlSeconds * 1000);
    const createdAt = this.clock.now().getTime();
    const tag = magicLinkEmailTag(r.email);
    const fields: Record<string, string> = {
      tokenHash: hashToken(r.token),
      listenHash: hashToken(r.listenToken),
      matchCode: r.matchCode,
      email: r.email,
      state: "PENDING",
      attempts: "0",
      max: String(this.maxMatchAttempts),
      createdAt: String(createdAt),
      expiresAt: String(createdAt + ttlMs),
      // A hash cannot hold null.
      redirectUrl: r.redirectUrl ?? "",
      clientState: r.clientState ?? "",
      userAgent: r.userAgent ?? "",
      ip: r.ip ?? "",
    };
    const keptMs = ttlMs + EXPIRED_LINK_GRACE_MS;
    // In other slots than the request, so not in its script: written first, a failure
    // before the script leaves only indexes naming no request (UNKNOWN).
    // All at once: none depends on another (one round trip, not three).
    await Promise.all([
      this.store.set(magicLinkTagKey(r.requestId), tag, keptMs),
      this.store.set(magicLinkTokenKey(r.token), r.requestId, keptMs),
      this.store.set(magicLinkTokenRefKey(r.token), `${r.requestId} ${tag}`, keptMs),
    ]);
    await this.store.run(createLinkRequest, [magicLinkRequestKey(tag, r.requestId), pointerKey(tag)], [r.requestId, ttlMs, keptMs, ...Object.entries(fields).flat()]);
  }

  /** The link's page was opened (a GET: mail scanners too). Changes PENDING to OPENED only. */
  async open(token: string): Promise<OpenResult> {
    const target = await this.resolve(token);
    if (!target) return { status: "UNKNOWN" };
    const reply = await this.store.run(openLink, target.keys, target.args);
    if (reply[0] !== "OK") return { status: reply[0] };
    return { status: "OK", request: toRequest(target.requestId, target.tag, reply[2]), changed: reply[1] === 1 };
  }

  /**
   * Uses the link once. `matchCode` null signs in the opening device only (CONSUMED);
   * the right one signs in the waiting device too (CONFIRMED, matched); a wrong one
   * counts an attempt and the last allowed one DENIES the request.
   */
  async consume(token: string, matchCode: string | null): Promise<ConsumeResult> {
    const target = await this.resolve(token);
    if (!target) return { status: "UNKNOWN" };
    const match = matchCode === null ? ["0", ""] : ["1", matchCode];
    const reply = await this.store.run(consumeLink, target.keys, [...target.args, ...match]);
    switch (reply[0]) {
      case "OK":
        return { status: "OK", request: toRequest(target.requestId, target.tag, reply[2]), matched: reply[1] === 1 };
      case "WRONG_MATCH":
        return { status: "WRONG_MATCH", attemptsRemaining: reply[1], requestId: target.requestId };
      case "DENIED":
        return { status: "DENIED", requestId: target.requestId };
      default:
        return { status: reply[0] };
    }
  }

  /** "This wasn't me": a PENDING or OPENED request becomes DENIED. */
  async deny(token: string): Promise<DenyResult> {
    const target = await this.resolve(token);
    if (!target) return { status: "UNKNOWN" };
    const reply = await this.store.run(denyLink, target.keys, target.args);
    return reply[0] === "OK" ? { status: "OK", requestId: target.requestId } : { status: reply[0] };
  }

  /** The request, only for the holder of its listen token; null otherwise or when unknown. */
  async watch(requestId: string, listenToken: string): Promise<LinkRequest | null> {
    const found = await this.read(requestId);
    if (!found || !safeEqual(found.listenHash, hashToken(listenToken))) return null;
    return this.asOfNow(toRequest(requestId, found.tag, found.snapshot));
  }

  /** The request as it stands, EXPIRED once its link has expired unused; null when unknown. */
  async state(requestId: string, tag?: string): Promise<LinkRequest | null> {
    const found = await this.read(requestId, tag);
    return found && this.asOfNow(toRequest(requestId, found.tag, found.snapshot));
  }

  /** The request a link's token names, read without opening it; null when unknown. */
  async peek(token: string): Promise<LinkRequest | null> {
    const target = await this.resolve(token);
    return target && this.state(target.requestId, target.tag);
  }

  /**
   * Keeps the sealed session for the waiting device until taken or the request expires
   * (nothing when the request is gone: there is nobody left to deliver it to). `tag`, when
   * known (LinkRequest.tag), spares the lookup of the request's key.
   */
  async putAuth(requestId: string, sealed: string, tag?: string): Promise<void> {
    const key = await this.requestKeyOf(requestId, tag);
    if (key !== null) await this.store.run(putLinkAuth, [key], [sealed]);
  }

  /** The sealed session, once: a second call gets null. `tag` as for putAuth. */
  async takeAuth(requestId: string, tag?: string): Promise<string | null> {
    const key = await this.requestKeyOf(requestId, tag);
    return key === null ? null : this.store.run(takeLinkAuth, [key], []);
  }

  /** A request id's tag: `known` when given, else looked up; null when the id is unknown. */
  private async tagOf(requestId: string, known?: string): Promise<string | null> {
    return known ?? this.store.get(magicLinkTagKey(requestId));
  }

  /** The request's key, through its id's tag; null when the id is unknown. */
  private async requestKeyOf(requestId: string, known?: string): Promise<string | null> {
    const tag = await this.tagOf(requestId, known);
    return tag === null ? null : magicLinkRequestKey(tag, requestId);
  }

  private async read(requestId: string, known?: string): Promise<{ tag: string; listenHash: string; snapshot: RequestSnapshot } | null> {
    const tag = await this.tagOf(requestId, known);
    if (tag === null) return null;
    const found = await this.store.run(readLinkRequest, [magicLinkRequestKey(tag, requestId)], []);
    return found && { tag, ...found };
  }

  /**
   * The request a token names, with the scripts' KEYS and leading ARGV. The token index
   * and the request's tag never change for a request id, so these reads cannot go
   * stale; the scripts re-check existence, and the token's hash against the request.
   */
  private async resolve(token: string): Promise<{ requestId: string; tag: string; keys: string[]; args: Array<string | number> } | null> {
    const [refId, refTag] = (await this.store.get(magicLinkTokenRefKey(token)))?.split(" ") ?? [];
    // Not there (an older release's link), or not as written: the index every release writes.
    const [requestId, tag] = refId && refTag ? [refId, refTag] : await this.legacyResolve(token);
    if (!requestId || !tag) return null;
    return { requestId, tag, keys: [magicLinkRequestKey(tag, requestId), pointerKey(tag)], args: [hashToken(token), requestId, this.clock.now().getTime()] };
  }

  /** A link issued before magicLinkTokenRefKey: its id, then its tag, one read each. */
  private async legacyResolve(token: string): Promise<[string | null, string | null]> {
    const requestId = await this.store.get(magicLinkTokenKey(token));
    return requestId === null ? [null, null] : [requestId, await this.tagOf(requestId)];
  }

  /** Reading writes nothing: a live request past its expiry is reported EXPIRED. */
  private asOfNow(request: LinkRequest): LinkRequest {
    const live = request.state === "PENDING" || request.state === "OPENED";
    return live && request.expiresAt <= this.clock.now().getTime() ? { ...request, state: "EXPIRED" } : request;
  }
}

function toRequest(requestId: string, tag: string, snapshot: RequestSnapshot): LinkRequest {
  // `?? ""`: a request stored before a field was added has none (see LATER_FIELDS).
  const field = (name: (typeof SNAPSHOT_FIELDS)[number]): string => snapshot[SNAPSHOT_FIELDS.indexOf(name)] ?? "";
  const orNull = (value: string): string | null => (value === "" ? null : value);
  return {
    requestId,
    tag,
    email: field("email"),
    state: field("state") as LinkState,
    createdAt: Number(field("createdAt")),
    expiresAt: Number(field("expiresAt")),
    redirectUrl: orNull(field("redirectUrl")),
    clientState: orNull(field("clientState")),
    userAgent: orNull(field("userAgent")),
    ip: orNull(field("ip")),
  };
}
