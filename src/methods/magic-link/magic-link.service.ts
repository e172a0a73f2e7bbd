import { randomInt, randomUUID } from "node:crypto";
import type { SpineSettings } from "../../config/settings";
import { normalizeEmail } from "../../core/contact";
import { AuthError, badInput } from "../../core/errors";
import { ipLimitKey } from "../../core/client-info";
import { checkClientState, checkRedirectUrl } from "../../core/redirect";
import type { AuditLog, BusResync, ClientInfo, Clock, DeliveryQueue, EventBus, UserRepo } from "../../core/ports";
import type { Limit, RateLimiter } from "../../core/rate-limit";
import type { SecretBox } from "../../core/secret-box";
import type { AuthResult } from "../../core/auth";
import type { SessionService } from "../../sessions/session.service";
import { randomSecret } from "../../sessions/tokens";
import type { AccountService, ProvenAccount } from "../../users/account.service";
import type { LinkRequest, LinkState, MagicLinkStore } from "./magic-link.store";
import { linkMessage } from "./magic-link.messages";
import type { MagicLinkSettings } from "./magic-link.settings";

/** Its own settings (MAGIC_LINK_*) and the spine's it needs for links and messages. */
export type MagicLinkServiceSettings = MagicLinkSettings & Pick<SpineSettings, "publicUrl" | "allowedOrigins" | "redirectUrls" | "appName">;

export interface MagicLinkLimits {
  perEmail: Limit;
  perIp: Limit;
}

export interface MagicLinkServiceDeps {
  users: UserRepo;
  accounts: AccountService;
  sessions: SessionService;
  links: MagicLinkStore;
  delivery: DeliveryQueue;
  bus: EventBus;
  /** Seals the waiting device's tokens while they wait in the store. */
  box: SecretBox;
  limiter: RateLimiter;
  audit: AuditLog;
  clock: Clock;
  settings: MagicLinkServiceSettings;
  limits: MagicLinkLimits;
  log: { warn(obj: object, msg: string): void };
}

/** What travels on the bus: the new state only; tokens never do. */
export interface LinkEvent {
  requestId: string;
  state: LinkState;
  /** With CONFIRMED: the request's store tag, so the waiting device takes its tokens in one read. */
  tag?: string;
}

export const linkTopic = (requestId: string) => `magic-link:${requestId}`;
// RFC 8176 has no "link": it is a one-time secret sent by email, proving the mailbox.
const FACTOR = { amr: "otp", authenticator: "email" } as const;
const linkNotValid = () => new AuthError("INVALID_CODE", "This sign-in link is not valid or was used already. Ask for a new one.");

export class MagicLinkService {
  constructor(private readonly d: MagicLinkServiceDeps) {}

  async request(input: { email: string; redirectUrl?: string | null; state?: string | null }, client: ClientInfo) {
    const email = normalizeEmail(input.email);
    const redirectUrl = input.redirectUrl ? checkRedirectUrl(input.redirectUrl, this.d.settings) : null;
    const clientState = input.state ? checkClientState(input.state) : null;
    await this.d.limiter.consume("magic-link:ip", ipLimitKey(client.ip), this.d.limits.perIp);
    if (this.d.settings.resendCooldownSeconds > 0) {
      await this.d.limiter.consume("magic-link:cooldown", email, { max: 1, windowSeconds: this.d.settings.resendCooldownSeconds });
    }
    await this.d.limiter.consume("magic-link:email", email, this.d.limits.perEmail);

    const user = await this.d.users.findByEmail(email);
    const requestId = randomUUID();
    const token = randomSecret();
    const listenToken = randomSecret();
    const matchCode = String(randomInt(0, 100)).padStart(2, "0");
    const { ttlSeconds } = this.d.settings;
    await this.d.links.create({ requestId, token, listenToken, matchCode, email, ttlSeconds, redirectUrl, clientState, userAgent: client.userAgent, ip: client.ip });
    // An unknown address with sign-up off gets the same answer, and no email.
    const deliver = user !== null || this.d.settings.signUp;
    await this.d.audit.record({ type: "magic_link.requested", ok: true, userId: user?.id ?? null, client, detail: { sent: deliver } });
    const expiresAt = this.d.clock.now().getTime() + ttlSeconds * 1000;
    // Last, after everything that can fail: a request answered with an error sends nothing.
    // The queue retries the link for as long as it works (expiresAt).
    if (deliver) {
      const link = `${this.d.settings.publicUrl}/auth/magic-link?token=${token}`;
      await this.d.delivery.enqueue({ ...linkMessage(email, link, ttlSeconds, this.d.settings.appName, user?.id ?? null), expiresAt });
    }
    return { requestId, listenToken, matchCode, expiresAt: new Date(expiresAt) };
  }

  /** The link's page was fetched: OPENED (a mail scanner may do this; nothing is approved). */
  async open(token: string): Promise<LinkRequest> {
    const r = await this.d.links.open(token);
    if (r.status !== "OK") throw r.status === "EXPIRED" ? new AuthError("CODE_EXPIRED", "This sign-in link has expired. Ask for a new one.") : linkNotValid();
    if (r.changed) await this.publish(r.request.requestId, "OPENED");
    return r.request;
  }

  /** The request behind a link, changing nothing (unlike `open`); INVALID_CODE when unknown. */
  async peek(token: string): Promise<LinkRequest> {
    const request = await this.d.links.peek(token);
    if (!request) throw linkNotValid();
    return request;
  }

  /**
   * The person's click: signs in the device that opened the link, and with the right match
   * code also the device that asked (its tokens wait, sealed, for its subscription).
   */
  async consume(
    input: { token: string; matchCode?: string | null },
    client: ClientInfo,
  ): Promise<AuthResult & { redirectUrl: string | null; clientState: string | null }> {
    const matchCode = input.matchCode?.trim() || null;
    const { request, matched } = await this.useLink(input.token, matchCode, client);
    const account = await this.d.accounts.accountForProvenContact({ kind: "email", address: request.email }, client, this.accountOptions());
    if (!account) throw linkNotValid();
    // One account, two sessions at once; the waiting device hears CONFIRMED as soon as its
    // own is stored, not after this one's.
    const waitingDevice = async () => {
      // Its own login row, from the browser and IP it asked with (as a sign-in of its own
      // wrote), stored together with its session: both before anyone is answered.
      const [row, stored] = await Promise.allSettled([
        this.d.audit.record({ type: "login.magic_link", ok: true, userId: account.user.id, client: waitingClientOf(request) }),
        this.startWaitingSession(request, account),
      ]);
      if (stored.status === "rejected") throw stored.reason; // its session ended already
      if (row.status === "rejected") {
        // Signed in but not on record: its tokens are taken back and its session ends.
        await this.abandon(stored.value, () => this.d.links.takeAuth(request.requestId, request.tag));
        throw row.reason;
      }
      await this.publish(request.requestId, "CONFIRMED", request.tag);
    };
    const [here, waiting] = await Promise.allSettled([this.d.sessions.completeFirstFactor(account.user, FACTOR, client, account.isNewUser), matched ? waitingDevice() : null]);
    if (waiting.status === "rejected") {
      // The device that asked is not signed in: nor is this one, and the error says why
      // (the link is used: the person asks for a new one).
      if (here.status === "fulfilled") await this.abandon(here.value);
      throw waiting.reason;
    }
    // This device's sign-in failed; the one that asked was answered and stays signed in.
    if (here.status === "rejected") throw here.reason;
    if (!matched) await this.publish(request.requestId, "CONSUMED");
    return { ...here.value, redirectUrl: request.redirectUrl, clientState: request.clientState };
  }

  /**
   * The page's click when the link has no redirectUrl: the tokens of the device that
   * opened it would have nowhere to go, so only the device that asked is signed in (its
   * match code is required). Its status says whether it still needs the second factor.
   */
  async confirmWaitingDevice(input: { token: string; matchCode: string }, client: ClientInfo): Promise<{ status: AuthResult["status"] }> {
    const matchCode = input.matchCode.trim();
    if (!matchCode) throw badInput("matchCode", "Enter the number shown on your other device.");
    const { request } = await this.useLink(input.token, matchCode, client);
    const waiting = await this.signInWaitingDevice(request);
    if (!waiting) throw linkNotValid();
    await this.publish(request.requestId, "CONFIRMED", request.tag);
    return { status: waiting.status };
  }

  /** Uses the link once (a wrong match code counts an attempt), or throws why not. */
  private async useLink(token: string, matchCode: string | null, client: ClientInfo): Promise<{ request: LinkRequest; matched: boolean }> {
    const r = await this.d.links.consume(token, matchCode);
    switch (r.status) {
      case "OK":
        return { request: r.request, matched: r.matched };
      case "WRONG_MATCH":
        await this.d.audit.record({ type: "magic_link.wrong_match", ok: false, client, detail: { attemptsRemaining: r.attemptsRemaining } });
        throw new AuthError("INVALID_CODE", "That number does not match the one on your other device. Nobody was signed in.", { attemptsRemaining: r.attemptsRemaining });
      case "DENIED":
        await this.publish(r.requestId, "DENIED");
        throw new AuthError("TOO_MANY_ATTEMPTS", "Too many wrong numbers: this sign-in was refused. Ask for a new link.");
      case "EXPIRED":
        throw new AuthError("CODE_EXPIRED", "This sign-in link has expired. Ask for a new one.");
      default:
        throw linkNotValid();
    }
  }

  private accountOptions() {
    return { signUp: this.d.settings.signUp, method: "magic_link" };
  }

  /** A session of its own for the waiting device, with the browser and IP it asked from. */
  private async signInWaitingDevice(request: LinkRequest): Promise<AuthResult | null> {
    const account = await this.d.accounts.accountForProvenContact({ kind: "email", address: request.email }, waitingClientOf(request), this.accountOptions());
    return account && this.startWaitingSession(request, account);
  }

  /** The waiting device's sign-in, sealed in the store for its subscription to take once. */
  private async startWaitingSession(request: LinkRequest, account: ProvenAccount): Promise<AuthResult> {
    const waiting = await this.d.sessions.completeFirstFactor(account.user, FACTOR, waitingClientOf(request), account.isNewUser);
    try {
      await this.d.links.putAuth(request.requestId, this.d.box.seal(JSON.stringify(waiting), request.requestId), request.tag);
    } catch (error) {
      // Its tokens never reach it: no session is left behind for them.
      await this.abandon(waiting);
      throw error;
    }
    return waiting;
  }

  /**
   * Ends a sign-in of a two-device click that failed halfway (after `first`, e.g. taking its
   * stored tokens back). Never throws: the caller rethrows why the click failed, and a
   * session left behind here is logged (nobody holds its tokens; it ends with its lifetime).
   */
  private async abandon(result: AuthResult, first?: () => Promise<unknown>): Promise<void> {
    try {
      await first?.();
      await this.d.sessions.abandon(result, "magic_link_incomplete");
    } catch (err) {
      this.d.log.warn({ err }, "magic link: a half-done sign-in's session could not be ended");
    }
  }

  /** "This wasn't me": nobody is signed in, and the waiting device hears DENIED. */
  async deny(token: string, client: ClientInfo): Promise<void> {
    const r = await this.d.links.deny(token);
    if (r.status !== "OK") throw linkNotValid();
    await this.d.audit.record({ type: "magic_link.denied", ok: true, client });
    await this.publish(r.requestId, "DENIED");
  }

  /** Checks the listen token; the current request, or INVALID_CODE. */
  async watch(requestId: string, listenToken: string): Promise<LinkRequest> {
    const request = await this.d.links.watch(requestId, listenToken);
    if (!request) throw new AuthError("INVALID_CODE", "Unknown request or wrong listenToken.");
    return request;
  }

  /** Resolves once listening, so a state read afterwards misses no change (a BusResync: read it again). */
  events(requestId: string): Promise<AsyncIterableIterator<LinkEvent | BusResync>> {
    return this.d.bus.listen<LinkEvent>(linkTopic(requestId));
  }

  /** The request as it stands, for a waiting device that proved its listen token already; null when gone. */
  current(requestId: string): Promise<LinkRequest | null> {
    return this.d.links.state(requestId);
  }

  /** The waiting device's sign-in, once: the stored copy is deleted as it is read. */
  async takeAuth(requestId: string, tag?: string): Promise<AuthResult | null> {
    const sealed = await this.d.links.takeAuth(requestId, tag);
    if (!sealed) return null;
    const result = JSON.parse(this.d.box.open(sealed, requestId).toString("utf8")) as AuthResult;
    if (result.status === "AUTHENTICATED") result.user.createdAt = new Date(result.user.createdAt);
    return result;
  }

  /**
   * Tells the waiting device the link's new state, which the store holds already: a failed
   * publish is logged, not thrown, since the change it announces is made (a click that signed
   * someone in must not answer an error), and a device that missed it reads the state again
   * once its instance's bus is back (BusResync).
   */
  private async publish(requestId: string, state: LinkState, tag?: string): Promise<void> {
    try {
      await this.d.bus.publish(linkTopic(requestId), (tag ? { requestId, state, tag } : { requestId, state }) satisfies LinkEvent);
    } catch (err) {
      this.d.log.warn({ err, state }, "magic link: the waiting device was not told of the change");
    }
  }
}

/** The device that asked for the link: the browser and IP it asked from. */
const waitingClientOf = (request: LinkRequest): ClientInfo => ({ ip: request.ip, userAgent: request.userAgent });
