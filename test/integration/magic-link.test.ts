import { createHash } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import { print } from "graphql";
import WebSocket from "ws";
import { ConsumeMagicLinkDocument, MagicLinkStatusDocument, MeDocument, RequestMagicLinkDocument, SignUpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { hostAndPort, startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait";
import { putLinkAuth } from "../../src/methods/magic-link/magic-link.scripts";

let gw: TestGateway;
let ws: Client;
beforeAll(async () => {
  gw = await startTestGateway({ env: { ALLOWED_ORIGINS: "https://app.example.test", MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0" } });
  ws = createClient({ url: gw.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
});
afterAll(async () => {
  await ws.dispose();
  await gw.close();
});

interface StatusEvent {
  state: string;
  auth: { status: string; tokens: { accessToken: string } | null } | null;
}

/** Subscribes as the waiting device would; collects events until the server completes. */
function watch(requestId: string, listenToken: string) {
  const events: StatusEvent[] = [];
  let failure: unknown;
  const done = new Promise<void>((resolve) => {
    ws.subscribe(
      { query: print(MagicLinkStatusDocument), variables: { requestId, listenToken } },
      {
        next: (r) => {
          if (r.errors) failure = r.errors;
          if (r.data) events.push((r.data as { magicLinkStatus: StatusEvent }).magicLinkStatus);
        },
        error: (e) => {
          failure = e;
          resolve();
        },
        complete: resolve,
      },
    );
  });
  return { events, done, failure: () => failure };
}

async function linkSentTo(email: string): Promise<string> {
  const [newest] = await gw.sentTo(email);
  return newest.text.match(/token=([\w-]+)/)![1];
}
const until = (check: () => boolean) => waitFor(check, "the expected events");
const ask = (email: string, redirectUrl?: string) => gw.request(RequestMagicLinkDocument, { input: { email, redirectUrl } });

describe("requestMagicLink", () => {
  it("answers a request id, a listen token, a two-digit match code and an expiry", async () => {
    const r = (await ask("first@example.com")).data!.requestMagicLink;
    expect(r.matchCode).toMatch(/^\d{2}$/);
    expect(r.listenToken.length).toBeGreaterThanOrEqual(43);
    expect(Date.parse(r.expiresAt) - Date.now()).toBeGreaterThan(800_000);
    expect(await linkSentTo("first@example.com")).toMatch(/^[\w-]{43}$/);
  });

  it("refuses a redirectUrl outside ALLOWED_ORIGINS", async () => {
    const r = await ask("redirect@example.com", "https://evil.example/steal");
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].extensions!.field).toBe("redirectUrl");
  });

  it("with REDIRECT_URLS, takes only those exact URLs: another page of the same origin is refused", async () => {
    const exact = await startTestGateway({ store: "memory", env: { ALLOWED_ORIGINS: "https://app.example.test", REDIRECT_URLS: "https://app.example.test/signed-in" } });
    try {
      const askExact = (redirectUrl: string) => exact.request(RequestMagicLinkDocument, { input: { email: "exact@example.com", redirectUrl } });
      expect((await askExact("https://app.example.test/signed-in")).errors).toBeUndefined();
      for (const other of ["https://app.example.test/open-redirect?to=https://evil.example", "https://app.example.test/signed-in?x=1", "https://app.example.test/"]) {
        const r = await askExact(other);
        expect(errorCode(r)).toBe("BAD_USER_INPUT");
        expect(r.errors![0].extensions!.field).toBe("redirectUrl");
      }
    } finally {
      await exact.close();
    }
  });
});

describe("the waiting device", () => {
  it("is signed in live when the link is confirmed with its number: PENDING, OPENED, CONFIRMED with working tokens", async () => {
    const r = (await ask("live@example.com")).data!.requestMagicLink;
    const sub = watch(r.requestId, r.listenToken);
    await until(() => sub.events.length === 1);
    const token = await linkSentTo("live@example.com");

    const page = await fetch(`${gw.url}/auth/magic-link?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    // The POST's redirect to the app is a form target too: browsers block it unless listed.
    expect(page.headers.get("content-security-policy")).toMatch(/form-action 'self' https:\/\/app\.example\.test;/);
    // The token in the URL never reaches another origin as a referrer.
    expect(page.headers.get("referrer-policy")).toBe("same-origin");
    const html = await page.text();
    expect(html).toContain("live@example.com");
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
    await until(() => sub.events.length === 2);

    const here = await gw.request(ConsumeMagicLinkDocument, { input: { token, matchCode: r.matchCode } });
    expect(here.data!.consumeMagicLink).toMatchObject({ status: "AUTHENTICATED", isNewUser: true, user: { email: "live@example.com", emailVerified: true } });
    await sub.done;
    expect(sub.events.map((e) => e.state)).toEqual(["PENDING", "OPENED", "CONFIRMED"]);
    const waiting = sub.events[2].auth!;
    expect(waiting.status).toBe("AUTHENTICATED");
    const me = await gw.request(MeDocument, {}, { token: waiting.tokens!.accessToken });
    expect(me.data!.me!.email).toBe("live@example.com");
    // Two devices, two sessions.
    expect(waiting.tokens!.accessToken).not.toBe(here.data!.consumeMagicLink.tokens!.accessToken);
  });

  it("a late subscriber gets the current state first, tokens included, once", async () => {
    const r = (await ask("late@example.com")).data!.requestMagicLink;
    const token = await linkSentTo("late@example.com");
    await gw.request(ConsumeMagicLinkDocument, { input: { token, matchCode: r.matchCode } });
    const first = watch(r.requestId, r.listenToken);
    await first.done;
    expect(first.events.map((e) => [e.state, e.auth?.status])).toEqual([["CONFIRMED", "AUTHENTICATED"]]);
  });

  it("a wrong number signs in nobody; the link stays usable until too many", async () => {
    const r = (await ask("wrong@example.com")).data!.requestMagicLink;
    const sub = watch(r.requestId, r.listenToken);
    await until(() => sub.events.length === 1);
    const token = await linkSentTo("wrong@example.com");
    const wrong = String((Number(r.matchCode) + 1) % 100).padStart(2, "0");
    const attempt = () => gw.request(ConsumeMagicLinkDocument, { input: { token, matchCode: wrong } });
    const first = await attempt();
    expect(errorCode(first)).toBe("INVALID_CODE");
    expect(first.errors![0].extensions!.attemptsRemaining).toBe(4);
    for (let i = 0; i < 3; i++) await attempt();
    expect(errorCode(await attempt())).toBe("TOO_MANY_ATTEMPTS");
    await sub.done;
    expect(sub.events.map((e) => e.state)).toEqual(["PENDING", "DENIED"]);
    expect(sub.events.every((e) => e.auth === null)).toBe(true);
    expect(errorCode(await gw.request(ConsumeMagicLinkDocument, { input: { token, matchCode: r.matchCode } }))).toBe("INVALID_CODE");
  });

  it("'This wasn't me' on the page: DENIED, nobody signed in", async () => {
    const r = (await ask("deny@example.com")).data!.requestMagicLink;
    const sub = watch(r.requestId, r.listenToken);
    await until(() => sub.events.length === 1);
    const token = await linkSentTo("deny@example.com");
    const res = await fetch(`${gw.url}/auth/magic-link`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, action: "deny" }).toString(),
    });
    expect(res.status).toBe(200);
    await sub.done;
    expect(sub.events.map((e) => e.state)).toEqual(["PENDING", "DENIED"]);
  });

  it("a wrong listenToken gets an error and no events", async () => {
    const r = (await ask("spy@example.com")).data!.requestMagicLink;
    const sub = watch(r.requestId, "not-the-listen-token");
    await sub.done;
    expect(sub.events).toEqual([]);
    expect(JSON.stringify(sub.failure())).toContain("INVALID_CODE");
    // The topic it listened on while the token was checked is let go.
    await waitFor(() => gw.bus.listenerCount(`magic-link:${r.requestId}`) === 0 || undefined, "no listener left on the link's topic");
  });
});

describe("the device that opened the link", () => {
  it("'Sign in on this device only' redirects with tokens in the fragment; the waiting device hears CONSUMED, no tokens", async () => {
    const r = (await ask("local@example.com", "https://app.example.test/welcome")).data!.requestMagicLink;
    const sub = watch(r.requestId, r.listenToken);
    await until(() => sub.events.length === 1);
    const token = await linkSentTo("local@example.com");
    const res = await fetch(`${gw.url}/auth/magic-link`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, action: "local" }).toString(),
    });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe("https://app.example.test/welcome");
    const access = new URLSearchParams(location.hash.slice(1)).get("access_token")!;
    expect((await gw.request(MeDocument, {}, { token: access })).data!.me!.email).toBe("local@example.com");
    await sub.done;
    expect(sub.events.map((e) => [e.state, e.auth])).toEqual([
      ["PENDING", null],
      ["CONSUMED", null],
    ]);
  });

  it("a link works once", async () => {
    await ask("once@example.com");
    const token = await linkSentTo("once@example.com");
    expect((await gw.request(ConsumeMagicLinkDocument, { input: { token } })).data!.consumeMagicLink.status).toBe("AUTHENTICATED");
    expect(errorCode(await gw.request(ConsumeMagicLinkDocument, { input: { token } }))).toBe("INVALID_CODE");
    expect((await fetch(`${gw.url}/auth/magic-link?token=${token}`)).status).toBe(410);
  });
});

describe("WebSocket hygiene", () => {
  it("caps live subscriptions per connection: the eleventh is RATE_LIMITED", async () => {
    const client = createClient({ url: gw.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const waits: string[][] = [];
      for (let i = 0; i < 10; i++) {
        const r = (await ask(`cap${i}@example.com`)).data!.requestMagicLink;
        const events: string[] = [];
        client.subscribe(
          { query: print(MagicLinkStatusDocument), variables: { requestId: r.requestId, listenToken: r.listenToken } },
          { next: (v) => events.push(JSON.stringify(v)), error: () => {}, complete: () => {} },
        );
        waits.push(events);
      }
      await until(() => waits.every((e) => e.length === 1));
      const r = (await ask("cap-over@example.com")).data!.requestMagicLink;
      const refused = await new Promise<unknown>((resolve) =>
        client.subscribe(
          { query: print(MagicLinkStatusDocument), variables: { requestId: r.requestId, listenToken: r.listenToken } },
          { next: (v) => resolve(v), error: (e) => resolve(e), complete: () => resolve("complete") },
        ),
      );
      expect(JSON.stringify(refused)).toContain("RATE_LIMITED");
    } finally {
      await client.dispose();
    }
  });

  it("a mutation sent over the WebSocket meets the same per-operation limit as over HTTP", async () => {
    const fields = [0, 1, 2, 3, 4, 5].map((i) => `a${i}: requestMagicLink(input: { email: "ws-batch${i}@example.com" }) { requestId }`);
    const answer = await new Promise<unknown>((resolve) =>
      ws.subscribe({ query: `mutation { ${fields.join(" ")} }` }, { next: resolve, error: resolve, complete: () => resolve("complete") }),
    );
    expect(JSON.stringify(answer)).toMatch(/at most 5 authentication mutations/);
    expect(gw.outbox!.list().some((m) => m.to.startsWith("ws-batch"))).toBe(false);
  });
});

describe("expiry, sign-up off, and a second factor", () => {
  let other: TestGateway;
  let client: Client;
  const TTL_MS = 60_000;
  // The gateway's clock runs almost a whole link lifetime behind: its links expire ~1.5 s from now.
  const clock = { now: () => new Date(Date.now() - TTL_MS + 1_500) };
  beforeAll(async () => {
    other = await startTestGateway({ clock, env: { MAGIC_LINK_TTL_SECONDS: "60", MAGIC_LINK_SIGNUP: "false", MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0" } });
    client = createClient({ url: other.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
  });
  afterAll(async () => {
    await client.dispose();
    await other.close();
  });

  it("the waiting device hears EXPIRED when the link runs out, and the subscription ends", async () => {
    await other.request(SignUpDocument, { input: { email: "expires@example.com", password: "correct horse battery" } });
    const r = (await other.request(RequestMagicLinkDocument, { input: { email: "expires@example.com" } })).data!.requestMagicLink;
    const states: string[] = [];
    await new Promise<void>((resolve, reject) =>
      client.subscribe(
        { query: print(MagicLinkStatusDocument), variables: { requestId: r.requestId, listenToken: r.listenToken } },
        { next: (v) => states.push((v.data as { magicLinkStatus: { state: string } }).magicLinkStatus.state), error: reject, complete: resolve },
      ),
    );
    expect(states).toEqual(["PENDING", "EXPIRED"]);
  });

  it("with MAGIC_LINK_SIGNUP=false an unknown email gets the same answer and no email", async () => {
    const r = await other.request(RequestMagicLinkDocument, { input: { email: "nobody-here@example.com" } });
    expect(r.data!.requestMagicLink.matchCode).toMatch(/^\d{2}$/);
    await new Promise((res) => setTimeout(res, 100));
    expect(other.outbox!.list().some((m) => m.to === "nobody-here@example.com")).toBe(false);
  });

  it("an account with TOTP gets MFA_REQUIRED from the link, not a session", async () => {
    const s = await other.request(SignUpDocument, { input: { email: "mfa-link@example.com", password: "correct horse battery" } });
    await other.db.db.prisma.user.update({ where: { id: s.data!.signUp.user!.id }, data: { totpEnabled: true, emailVerified: true } });
    await other.request(RequestMagicLinkDocument, { input: { email: "mfa-link@example.com" } });
    const [link] = await other.sentTo("mfa-link@example.com");
    const token = link.text.match(/token=([\w-]+)/)![1];
    const c = await other.request(ConsumeMagicLinkDocument, { input: { token } });
    // Not EMAIL_OTP: the link proved the mailbox already, a code to it would prove it again.
    expect(c.data!.consumeMagicLink).toMatchObject({ status: "MFA_REQUIRED", tokens: null, user: null, mfaMethods: ["TOTP", "RECOVERY_CODE"] });
  });
});

describe("a waiting device that goes away", () => {
  it("frees its subscription at once (not when the link expires), so its slot can be used again", async () => {
    const capped = await startTestGateway({ env: { WS_MAX_SUBSCRIPTIONS_PER_IP: "2", MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0", MAGIC_LINK_MAX_REQUESTS_PER_IP_PER_HOUR: "100000" } });
    const url = capped.url.replace("http", "ws") + "/graphql";
    const subscribeTwo = async (client: Client) => {
      const outcomes: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = (await capped.request(RequestMagicLinkDocument, { input: { email: `slot${Math.random()}@example.com` } })).data!.requestMagicLink;
        client.subscribe(
          { query: print(MagicLinkStatusDocument), variables: { requestId: r.requestId, listenToken: r.listenToken } },
          { next: (v) => outcomes.push(JSON.stringify(v)), error: (e) => outcomes.push(JSON.stringify(e)), complete: () => {} },
        );
      }
      await until(() => outcomes.length === 2);
      return outcomes;
    };
    try {
      const first = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
      expect((await subscribeTwo(first)).every((o) => o.includes("PENDING"))).toBe(true);
      await first.dispose();
      const second = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
      let outcomes: string[] = [];
      // The server frees the slots when it sees the socket close: give it a moment.
      for (let i = 0; i < 50; i++) {
        outcomes = await subscribeTwo(second);
        if (outcomes.every((o) => o.includes("PENDING"))) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(outcomes.every((o) => o.includes("PENDING"))).toBe(true);
      await second.dispose();
    } finally {
      await capped.close();
    }
  });
});

describe("a waiting device whose instance lost Redis for a while", () => {
  it("still hears CONFIRMED, with its tokens, once Redis is back: the event sent meanwhile is lost, the state is read again", async () => {
    const proxy = await startTcpProxy(hostAndPort(process.env.REDIS_URL!, 6379));
    // A (the device waits here) reaches Redis through the proxy; B, the same deployment, directly.
    const a = await startTestGateway({ peerOf: gw, through: { redis: proxy }, env: { MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0" } });
    const client = createClient({ url: a.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const r = (await a.request(RequestMagicLinkDocument, { input: { email: "cut-off@example.com" } })).data!.requestMagicLink;
      const events: StatusEvent[] = [];
      const done = new Promise<void>((resolve, reject) => {
        client.subscribe(
          { query: print(MagicLinkStatusDocument), variables: { requestId: r.requestId, listenToken: r.listenToken } },
          { next: (m) => void (m.data && events.push((m.data as { magicLinkStatus: StatusEvent }).magicLinkStatus)), error: reject, complete: resolve },
        );
      });
      await until(() => events.length === 1);
      const [mail] = await waitFor(() => {
        const sent = [...(a.outbox?.list() ?? []), ...(gw.outbox?.list() ?? [])].filter((m) => m.to === "cut-off@example.com");
        return sent.length > 0 && sent;
      }, "the link email");
      const token = mail.text.match(/token=([\w-]+)/)![1];
      await proxy.refuse();
      const consumed = await gw.request(ConsumeMagicLinkDocument, { input: { token, matchCode: r.matchCode } });
      expect(consumed.data!.consumeMagicLink.status).toBe("AUTHENTICATED");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(events.map((e) => e.state)).toEqual(["PENDING"]); // the CONFIRMED went by while A was cut off
      await proxy.pass();
      await done;
      expect(events.map((e) => e.state)).toEqual(["PENDING", "CONFIRMED"]);
      const auth = events[1].auth!;
      expect(auth.status).toBe("AUTHENTICATED");
      const me = await gw.request(MeDocument, {}, { token: auth.tokens!.accessToken });
      expect(me.data!.me).toMatchObject({ email: "cut-off@example.com" });
    } finally {
      await client.dispose();
      await a.close();
      await proxy.close();
    }
  }, 30_000);
});

describe("a click whose waiting device's half fails", () => {
  let proxy: TcpProxy;
  let b: TestGateway;
  beforeEach(async () => {
    proxy = await startTcpProxy(hostAndPort(process.env.REDIS_URL!, 6379));
    // B (the phone's click lands here) reaches Redis through the proxy, with short command timeouts.
    b = await startTestGateway({ peerOf: gw, through: { redis: proxy }, env: { REDIS_COMMAND_TIMEOUT_MS: "500" } });
  });
  afterEach(async () => {
    await proxy.pass();
    await b.close();
    await proxy.close();
  });

  /** B shares the delivery queue: either instance may send the link. */
  const linkTo = async (email: string): Promise<string> => {
    const [mail] = await waitFor(() => {
      const sent = [...(b.outbox?.list() ?? []), ...(gw.outbox?.list() ?? [])].filter((m) => m.to === email);
      return sent.length > 0 && sent;
    }, "the link email");
    return mail.text.match(/token=([\w-]+)/)![1];
  };

  const sessionsOf = async (email: string) => {
    const user = await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email } });
    return gw.db.db.prisma.session.findMany({ where: { userId: user.id } });
  };

  it("leaves nobody signed in when the waiting device's tokens cannot be stored: both sessions end, the opener hears why", async () => {
    const email = "half-done@example.com";
    const r = (await ask(email)).data!.requestMagicLink;
    const token = await linkTo(email);
    // Redis stops answering B at the very write of the waiting device's sealed tokens.
    const cut = proxy.blackHoleOn(createHash("sha1").update(putLinkAuth.lua).digest("hex"));
    const answer = await b.request(ConsumeMagicLinkDocument, { input: { token, matchCode: r.matchCode } });
    await cut;
    expect(errorCode(answer)).toBe("UNAVAILABLE");
    const sessions = await sessionsOf(email);
    expect(sessions).toHaveLength(2);
    expect(sessions.map((s) => s.revokedReason)).toEqual(["magic_link_incomplete", "magic_link_incomplete"]);
  }, 30_000);

  it("signs both in when only the CONFIRMED event is lost: the opener gets its tokens, the waiting device finds its own on its next look", async () => {
    const email = "event-lost@example.com";
    const r = (await ask(email)).data!.requestMagicLink;
    const token = await linkTo(email);
    // Redis stops answering B at the CONFIRMED event's PUBLISH (its channel names the request).
    const cut = proxy.blackHoleOn(`magic-link:${r.requestId}`);
    const answer = await b.request(ConsumeMagicLinkDocument, { input: { token, matchCode: r.matchCode } });
    await cut;
    expect(answer.data!.consumeMagicLink.status).toBe("AUTHENTICATED");
    await proxy.pass();
    const looked = watch(r.requestId, r.listenToken);
    await looked.done;
    expect(looked.events.map((e) => e.state)).toEqual(["CONFIRMED"]);
    const me = await gw.request(MeDocument, {}, { token: looked.events[0].auth!.tokens!.accessToken });
    expect(me.data!.me).toMatchObject({ email });
    expect((await sessionsOf(email)).map((s) => s.revokedAt)).toEqual([null, null]);
  }, 30_000);
});
