import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { RequestOtpDocument, SessionsDocument, SignUpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

// The test process plays the one load balancer in front of the gateway (TRUST_PROXY=1):
// it appends the address it saw last; whatever stands to its left the client wrote.
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { TRUST_PROXY: "1", OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_REQUESTS_PER_IP_PER_HOUR: "2" } });
});
afterAll(() => gw.close());

const via = (forged: string, client: string) => ({ headers: { "x-forwarded-for": `${forged}, ${client}` } });
const askCode = (xff: string, n: number) =>
  gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: `addr${n}-${xff.length}@example.com`, purpose: "SIGN_IN" } }, { headers: { "x-forwarded-for": xff } });

describe("the client address behind one trusted proxy (HTTP)", () => {
  it("is the address the proxy appended: sessions and audit rows ignore what the client wrote", async () => {
    const r = await gw.request(SignUpDocument, { input: { email: "xff-http@example.com", password: "correct horse battery" } }, via("6.6.6.6", "198.51.100.7"));
    const { accessToken } = r.data!.signUp.tokens!;
    const sessions = (await gw.request(SessionsDocument, {}, { token: accessToken })).data!.sessions;
    expect(sessions.map((s) => s.ip)).toEqual(["198.51.100.7"]);
    const rows = await gw.db.db.prisma.authEvent.findMany({ where: { userId: r.data!.signUp.user!.id } });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.ip).toBe("198.51.100.7");
  });

  it("counts per-IP limits on it: a new forged left-most entry per request does not reset them", async () => {
    expect(errorCode(await askCode("6.6.6.1, 198.51.100.8", 1))).toBeUndefined();
    expect(errorCode(await askCode("6.6.6.2, 198.51.100.8", 2))).toBeUndefined();
    expect(errorCode(await askCode("6.6.6.3, 198.51.100.8", 3))).toBe("RATE_LIMITED");
    expect(errorCode(await askCode("6.6.6.3, 198.51.100.9", 4))).toBeUndefined();
  });

  it("counts IPv6 clients per /64: two addresses of one /64 share a limit", async () => {
    expect(errorCode(await askCode("2001:db8:aa:1::1", 1))).toBeUndefined();
    expect(errorCode(await askCode("2001:db8:aa:1:ffff:ffff:ffff:ffff", 2))).toBeUndefined();
    expect(errorCode(await askCode("2001:db8:aa:1::2", 3))).toBe("RATE_LIMITED");
    expect(errorCode(await askCode("2001:db8:aa:2::1", 4))).toBeUndefined();
  });

  it("keeps the full IPv6 address in sessions", async () => {
    const r = await gw.request(SignUpDocument, { input: { email: "v6@example.com", password: "correct horse battery" } }, via("6.6.6.6", "2001:db8:aa:3::42"));
    const sessions = (await gw.request(SessionsDocument, {}, { token: r.data!.signUp.tokens!.accessToken })).data!.sessions;
    expect(sessions.map((s) => s.ip)).toEqual(["2001:db8:aa:3::42"]);
  });
});

describe("the client address behind one trusted proxy (WebSocket)", () => {
  /** Runs one operation over a WebSocket whose upgrade request carried `xff`. */
  async function overWs(xff: string, query: string): Promise<{ data?: Record<string, any>; errors?: Array<{ extensions?: Record<string, unknown> }> }> {
    class Forwarded extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { "x-forwarded-for": xff } });
      }
    }
    const client = createClient({ url: gw.url.replace("http", "ws") + "/graphql", webSocketImpl: Forwarded, retryAttempts: 0 });
    try {
      return await new Promise((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query }, { next: (v) => (value = v), error: reject, complete: () => resolve(value as never) });
      });
    } finally {
      await client.dispose();
    }
  }

  it("is computed as over HTTP: the session records the appended address", async () => {
    const r = await overWs(
      "6.6.6.6, 198.51.100.20",
      'mutation { signUp(input: { email: "xff-ws@example.com", password: "correct horse battery" }) { tokens { accessToken } user { id } } }',
    );
    const sessions = (await gw.request(SessionsDocument, {}, { token: r.data!.signUp.tokens.accessToken })).data!.sessions;
    expect(sessions.map((s) => s.ip)).toEqual(["198.51.100.20"]);
    const rows = await gw.db.db.prisma.authEvent.findMany({ where: { userId: r.data!.signUp.user.id } });
    for (const row of rows) expect(row.ip).toBe("198.51.100.20");
  });

  it("counts per-IP limits on it", async () => {
    const ask = (forged: string, n: number) =>
      overWs(`${forged}, 198.51.100.21`, `mutation { requestOtp(input: { channel: EMAIL, destination: "ws${n}@example.com", purpose: SIGN_IN }) { challengeId } }`);
    expect((await ask("6.6.6.1", 1)).errors).toBeUndefined();
    expect((await ask("6.6.6.2", 2)).errors).toBeUndefined();
    expect((await ask("6.6.6.3", 3)).errors?.[0].extensions?.code).toBe("RATE_LIMITED");
  });
});

describe("live WebSocket operations per address", () => {
  let capped: TestGateway;
  beforeAll(async () => {
    capped = await startTestGateway({ env: { TRUST_PROXY: "1", WS_MAX_SUBSCRIPTIONS_PER_IP: "1" } });
  });
  afterAll(() => capped.close());

  /** Subscribes from `xff` to a waiting magic link; resolves with its first event or its error. */
  function waitFrom(xff: string, variables: { r: string; t: string }) {
    class Forwarded extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { "x-forwarded-for": xff } });
      }
    }
    const client = createClient({ url: capped.url.replace("http", "ws") + "/graphql", webSocketImpl: Forwarded, retryAttempts: 0 });
    const first = new Promise<{ state?: string; code?: unknown }>((resolve) => {
      client.subscribe(
        { query: "subscription($r: ID!, $t: String!) { magicLinkStatus(requestId: $r, listenToken: $t) { state } }", variables },
        {
          next: (v) => resolve(v.errors ? { code: v.errors[0].extensions?.code } : { state: (v.data as { magicLinkStatus: { state: string } }).magicLinkStatus.state }),
          error: (e) => resolve({ code: Array.isArray(e) ? e[0]?.extensions?.code : String(e) }),
          complete: () => undefined,
        },
      );
    });
    return { first, close: () => client.dispose() };
  }

  it("counts an IPv6 client by its /64, as the HTTP limits do", async () => {
    const link = (await capped.request<{ requestMagicLink: { requestId: string; listenToken: string } }, { e: string }>(
      "mutation($e: String!) { requestMagicLink(input: { email: $e }) { requestId listenToken } }",
      { e: "ws-cap@example.com" },
    )).data!.requestMagicLink;
    const vars = { r: link.requestId, t: link.listenToken };
    const holder = waitFrom("2001:db8:bb:1::1", vars);
    expect(await holder.first).toEqual({ state: "PENDING" });
    const sameBlock = waitFrom("2001:db8:bb:1:ffff::2", vars);
    expect(await sameBlock.first).toEqual({ code: "RATE_LIMITED" });
    const otherBlock = waitFrom("2001:db8:bb:2::1", vars);
    expect(await otherBlock.first).toEqual({ state: "PENDING" });
    await Promise.all([holder.close(), sameBlock.close(), otherBlock.close()]);
  });
});

describe("open WebSocket connections per address", () => {
  let capped: TestGateway;
  beforeAll(async () => {
    capped = await startTestGateway({ env: { TRUST_PROXY: "1", WS_MAX_CONNECTIONS_PER_IP: "2" } });
  });
  afterAll(() => capped.close());

  /** A raw socket from `xff`: open, or the HTTP answer that refused the upgrade. */
  const connectFrom = (xff: string) =>
    new Promise<{ socket?: WebSocket; status?: number; retryAfter?: string }>((resolve) => {
      const socket = new WebSocket(capped.url.replace("http", "ws") + "/graphql", "graphql-transport-ws", { headers: { "x-forwarded-for": xff } });
      socket.once("open", () => resolve({ socket }));
      socket.once("unexpected-response", (_req, res) => resolve({ status: res.statusCode, retryAfter: res.headers["retry-after"] }));
    });
  const closed = (socket: WebSocket) => new Promise((resolve) => (socket.once("close", resolve), socket.close()));

  it("refuses the upgrade past the cap with 429 and Retry-After, idle sockets counted, per address; a closed one frees its place", async () => {
    const first = await connectFrom("6.6.6.1, 198.51.100.31");
    const second = await connectFrom("198.51.100.31");
    expect(first.socket && second.socket).toBeTruthy();
    // The forged part changes nothing: the address is the one the proxy appended.
    expect(await connectFrom("6.6.6.2, 198.51.100.31")).toEqual({ status: 429, retryAfter: "60" });
    const other = await connectFrom("198.51.100.32");
    expect(other.socket).toBeTruthy();
    await closed(first.socket!);
    // The server hears the close a moment after the client does: ask until the place is free.
    let again = await connectFrom("198.51.100.31");
    for (let i = 0; !again.socket && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      again = await connectFrom("198.51.100.31");
    }
    expect(again.socket).toBeTruthy();
    await Promise.all([second.socket!, other.socket!, again.socket!].map(closed));
  });
});
