import type { AuthPayload } from "../../graphql/types";
import { toAuthPayload } from "../../graphql/auth-payload";
import type { LinkState } from "./magic-link.store";
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
  let events: AsyncIterableIterator<LinkEvent> | undefined;
  const stream = statusStream(links, requestId, listenToken, (e) => (events = e));
  // A client that leaves must free its subscription at once, not when the link expires: a
  // generator's return() waits for its pending await, so end the bus iterator first.
  return {
    next: () => stream.next(),
    return: async (value?: unknown) => {
      await events?.return?.();
      return stream.return(value as never);
    },
    throw: (error?: unknown) => stream.throw(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* statusStream(
  links: MagicLinkService,
  requestId: string,
  listenToken: string,
  onSubscribed: (events: AsyncIterableIterator<LinkEvent>) => void,
): AsyncGenerator<MagicLinkEvent> {
  // A wrong listenToken: an error, no events. Only the expiry is kept while the device waits.
  const { expiresAt } = await links.watch(requestId, listenToken);
  const events = await links.events(requestId); // listening before the state is read: nothing falls in between
  onSubscribed(events);
  const event = (state: LinkState, auth: AuthPayload | null = null): MagicLinkEvent => ({ requestId, state: MagicLinkState[state], auth });
  try {
    const current = (await links.state(requestId))?.state ?? "EXPIRED";
    if (current === "CONFIRMED") {
      yield event("CONFIRMED", await authWithin(links, requestId, events, AUTH_GRACE_MS));
      return;
    }
    yield event(current);
    if (TERMINAL.has(current)) return;
    for (;;) {
      const next = await nextBefore(events, expiresAt);
      if (next === "timeout") {
        yield event("EXPIRED");
        return;
      }
      if (next.done) return;
      const { state } = next.value;
      if (state === "CONFIRMED") {
        yield event("CONFIRMED", await authWithin(links, requestId, events, AUTH_GRACE_MS));
        return;
      }
      yield event(state);
      if (TERMINAL.has(state)) return;
    }
  } finally {
    await events.return?.();
  }
}

/** The stored tokens, once; when a CONFIRMED event is still on its way, waits for it briefly. */
async function authWithin(links: MagicLinkService, requestId: string, events: AsyncIterableIterator<LinkEvent>, ms: number): Promise<AuthPayload | null> {
  const taken = await links.takeAuth(requestId);
  if (taken) return toAuthPayload(taken);
  const deadline = Date.now() + ms;
  for (;;) {
    const next = await nextBefore(events, deadline);
    if (next === "timeout" || next.done) return null;
    if (next.value.state === "CONFIRMED") {
      const late = await links.takeAuth(requestId);
      return late ? toAuthPayload(late) : null;
    }
  }
}

/** The next event, or "timeout" at `deadline` (ms epoch). */
async function nextBefore<T>(events: AsyncIterableIterator<T>, deadline: number): Promise<IteratorResult<T> | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([events.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
