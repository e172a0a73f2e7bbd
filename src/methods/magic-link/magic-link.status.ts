import type { AuthPayload } from "../../graphql/types";
import { toAuthPayload } from "../../graphql/auth-payload";
import type { LinkRequest, LinkState } from "./magic-link.store";
import type { BusResync } from "../../core/ports";
import type { LinkEvent, MagicLinkService } from "./magic-link.service";
import { MagicLinkState, type MagicLinkEvent } from "./magic-link.types";

const TERMINAL: ReadonlySet<LinkState> = new Set(["CONFIRMED", "CONSUMED", "DENIED", "EXPIRED"]);
/** How long a late subscriber waits for tokens still being minted after CONFIRMED. */
const AUTH_GRACE_MS = 5_000;

/**
 * The waiting device's view of a link request: the current state first (a late subscriber
 * misses nothing), then each change from the bus (any instance may publish it), until a
 * final state; EXPIRED when the link runs out. The CONFIRMED event carries the tokens,
 * taken from the store once. The device never polls.
 */
export function linkStatusEvents(links: MagicLinkService, requestId: string, listenToken: string): AsyncIterableIterator<MagicLinkEvent> {
  return new LinkStatusEvents(links, requestId, listenToken);
}

/** A class, not an object of closures: a device may wait on one for minutes, thousands at a time. */
class LinkStatusEvents implements AsyncIterableIterator<MagicLinkEvent> {
  /** The bus iterator, once listening. */
  events?: AsyncIterableIterator<LinkEvent | BusResync>;
  private readonly stream: AsyncGenerator<MagicLinkEvent>;

  constructor(links: MagicLinkService, requestId: string, listenToken: string) {
    this.stream = statusStream(links, requestId, listenToken, this);
  }

  next(): Promise<IteratorResult<MagicLinkEvent>> {
    return this.stream.next();
  }

  // A client that leaves must free its subscription at once, not when the link expires: a
  // generator's return() waits for its pending await, so end the bus iterator first.
  async return(value?: unknown): Promise<IteratorResult<MagicLinkEvent>> {
    await this.events?.return?.();
    return this.stream.return(value as never);
  }

  throw(error?: unknown): Promise<IteratorResult<MagicLinkEvent>> {
    return this.stream.throw(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const event = (requestId: string, state: LinkState, auth: AuthPayload | null = null): MagicLinkEvent => ({ requestId, state: MagicLinkState[state], auth });

async function* statusStream(
  links: MagicLinkService,
  requestId: string,
  listenToken: string,
  listening: { events?: AsyncIterableIterator<LinkEvent | BusResync> },
): AsyncGenerator<MagicLinkEvent> {
  // Listening before the request is read: nothing falls in between. One read checks the
  // listen token and gives the state (a wrong token: an error, no events, the channel let go).
  const events = await links.events(requestId);
  listening.events = events;
  try {
    // Only the expiry and the state are kept while the device waits.
    const { expiresAt, state: current, tag } = await links.watch(requestId, listenToken);
    if (current === "CONFIRMED") {
      yield event(requestId, "CONFIRMED", await authWithin(links, requestId, tag, events, AUTH_GRACE_MS));
      return;
    }
    yield event(requestId, current);
    if (TERMINAL.has(current)) return;
    let last: LinkState = current;
    for (;;) {
      const next = await nextBefore(events, expiresAt);
      if (next === "timeout") {
        yield event(requestId, "EXPIRED");
        return;
      }
      if (next.done) return;
      // The bus was cut off and is back: what it carried meanwhile is lost, so read the state.
      const now = "resync" in next.value ? await reread(links, requestId) : next.value;
      if (now === undefined) continue; // Redis not answering yet: wait on (the next event, or resync)
      if (now === null) {
        yield event(requestId, "EXPIRED"); // forgotten: long past its link
        return;
      }
      const { state } = now;
      if (state === last) continue;
      if (state === "CONFIRMED") {
        yield event(requestId, "CONFIRMED", await authWithin(links, requestId, now.tag, events, AUTH_GRACE_MS));
        return;
      }
      yield event(requestId, state);
      if (TERMINAL.has(state)) return;
      last = state;
    }
  } finally {
    await events.return?.();
  }
}

/** The stored tokens, once; when a CONFIRMED event is still on its way, waits for it briefly. */
async function authWithin(links: MagicLinkService, requestId: string, tag: string | undefined, events: AsyncIterableIterator<LinkEvent | BusResync>, ms: number): Promise<AuthPayload | null> {
  const taken = await links.takeAuth(requestId, tag);
  if (taken) return toAuthPayload(taken);
  const deadline = Date.now() + ms;
  for (;;) {
    const next = await nextBefore(events, deadline);
    if (next === "timeout" || next.done) return null;
    // A resync may stand for the CONFIRMED the bus lost: try again.
    const heard = next.value;
    const resync = "resync" in heard;
    if (resync || heard.state === "CONFIRMED") {
      const late = await links.takeAuth(requestId, resync ? tag : (heard.tag ?? tag)).catch((e: unknown) => {
        if (resync) return null; // still not answering: wait on
        throw e;
      });
      if (late) return toAuthPayload(late);
      if (!resync) return null;
    }
  }
}

/** How far apart the waiting devices' reads after a resync are spread, and how often one is tried. */
const REREAD_SPREAD_MS = 1_000;
const REREAD_TRIES = 3;

/**
 * The request as it stands, after the bus came back: thousands of devices may be told at
 * once, so each waits a random moment first (they would all hit a Redis just back), and a
 * read that fails is tried again. Undefined when none answered: the device waits on.
 */
async function reread(links: MagicLinkService, requestId: string): Promise<LinkRequest | null | undefined> {
  for (let i = 0; i < REREAD_TRIES; i++) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * REREAD_SPREAD_MS));
    try {
      return await links.current(requestId);
    } catch {
      // the store's own connection may still be reconnecting
    }
  }
  return undefined;
}

/**
 * The next event, or "timeout" at `deadline` (ms epoch). One promise and one timer, no
 * race of two: a device may wait here for minutes, thousands at a time.
 */
function nextBefore<T>(events: AsyncIterableIterator<T>, deadline: number): Promise<IteratorResult<T> | "timeout"> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
    events.next().then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
