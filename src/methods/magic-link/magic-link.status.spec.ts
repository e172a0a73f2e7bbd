import { BUS_RESYNC, type BusResync } from "../../core/ports";
import type { AuthResult } from "../../core/auth";
import type { LinkEvent, MagicLinkService } from "./magic-link.service";
import type { LinkRequest, LinkState } from "./magic-link.store";
import { linkStatusEvents } from "./magic-link.status";

/*
 * The waiting device's stream when its bus says "read the state again" (BusResync): after a
 * lost connection the events sent meanwhile are gone. A fake MagicLinkService (our own
 * port); the stream over a real bus and Redis cut off: test/integration/magic-link.test.ts.
 */

const MFA: AuthResult = { status: "MFA_REQUIRED", mfaToken: "mfa-token", mfaMethods: [], isNewUser: false };
const request = (state: LinkState): LinkRequest => ({
  requestId: "r1",
  tag: "tag",
  email: "a@example.com",
  state,
  createdAt: 0,
  expiresAt: Date.now() + 60_000,
  redirectUrl: null,
  clientState: null,
  userAgent: null,
  ip: null,
});

/** The bus's side: what is pushed, pulled in order. */
class Pushed<T> implements AsyncIterableIterator<T> {
  private readonly queued: T[] = [];
  private waiting?: (r: IteratorResult<T>) => void;
  push(value: T): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
    } else this.queued.push(value);
  }
  next(): Promise<IteratorResult<T>> {
    if (this.queued.length) return Promise.resolve({ value: this.queued.shift()!, done: false });
    return new Promise((resolve) => (this.waiting = resolve));
  }
  async return(): Promise<IteratorResult<T>> {
    this.waiting?.({ value: undefined, done: true });
    return { value: undefined, done: true };
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

function fakeLinks(first: LinkState) {
  const bus = new Pushed<LinkEvent | BusResync>();
  const current = jest.fn<Promise<LinkRequest | null>, [string]>();
  const takeAuth = jest.fn<Promise<AuthResult | null>, [string, string | undefined]>();
  const links = {
    events: async () => bus,
    watch: async () => request(first),
    current,
    takeAuth,
  } as unknown as MagicLinkService;
  return { links, bus, current, takeAuth, stream: linkStatusEvents(links, "r1", "listen") };
}

beforeEach(() => jest.spyOn(Math, "random").mockReturnValue(0)); // no spread in the re-reads
afterEach(() => jest.restoreAllMocks());

describe("a waiting device told to read the state again", () => {
  it("gets the CONFIRMED it missed, with its tokens", async () => {
    const f = fakeLinks("PENDING");
    expect((await f.stream.next()).value).toMatchObject({ state: "PENDING" });
    f.current.mockResolvedValueOnce(request("CONFIRMED"));
    f.takeAuth.mockResolvedValueOnce(MFA);
    f.bus.push(BUS_RESYNC);
    expect((await f.stream.next()).value).toMatchObject({ state: "CONFIRMED", auth: { status: "MFA_REQUIRED", mfaToken: "mfa-token" } });
    expect(f.takeAuth).toHaveBeenCalledWith("r1", "tag");
    expect((await f.stream.next()).done).toBe(true);
  });

  it("hears nothing new when nothing changed, and goes on with the next event", async () => {
    const f = fakeLinks("PENDING");
    await f.stream.next();
    f.current.mockResolvedValueOnce(request("PENDING"));
    f.bus.push(BUS_RESYNC);
    f.bus.push({ requestId: "r1", state: "OPENED" });
    expect((await f.stream.next()).value).toMatchObject({ state: "OPENED" });
    expect(f.current).toHaveBeenCalledTimes(1);
  });

  it("ends EXPIRED when the request is gone", async () => {
    const f = fakeLinks("OPENED");
    await f.stream.next();
    f.current.mockResolvedValueOnce(null);
    f.bus.push(BUS_RESYNC);
    expect((await f.stream.next()).value).toMatchObject({ state: "EXPIRED" });
    expect((await f.stream.next()).done).toBe(true);
  });

  it("waits on when the store does not answer yet (three tries), and takes the next event", async () => {
    const f = fakeLinks("PENDING");
    await f.stream.next();
    f.current.mockRejectedValue(new Error("Redis is reconnecting"));
    f.bus.push(BUS_RESYNC);
    f.bus.push({ requestId: "r1", state: "DENIED" });
    expect((await f.stream.next()).value).toMatchObject({ state: "DENIED" });
    expect(f.current).toHaveBeenCalledTimes(3);
  });

  it("after CONFIRMED whose tokens were not there yet, takes them on a resync", async () => {
    const f = fakeLinks("CONFIRMED");
    f.takeAuth.mockResolvedValueOnce(null).mockRejectedValueOnce(new Error("not answering")).mockResolvedValueOnce(MFA);
    const first = f.stream.next();
    f.bus.push(BUS_RESYNC); // the store fails this time: waits on
    f.bus.push(BUS_RESYNC);
    expect((await first).value).toMatchObject({ state: "CONFIRMED", auth: { mfaToken: "mfa-token" } });
    expect(f.takeAuth).toHaveBeenCalledTimes(3);
  });
});
