import { createClient, type Client } from "graphql-ws";
import { print } from "graphql";
import WebSocket from "ws";
import { MagicLinkStatusDocument, MeDocument, RequestMagicLinkDocument } from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

// The link's page offers only what it can do: without a redirectUrl the tokens of the
// device that opened it would go nowhere, so it can sign in the device that asked only.
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

const APP = "https://app.example.test/welcome";
let n = 0;
const newEmail = () => `page-${++n}-${Date.now()}@example.com`;

async function ask(email: string, redirectUrl?: string) {
  const r = await gw.request(RequestMagicLinkDocument, { input: { email, redirectUrl } });
  expect(r.errors).toBeUndefined();
  const [newest] = await gw.sentTo(email);
  return { ...r.data!.requestMagicLink, token: newest.text.match(/token=([\w-]+)/)![1] };
}

const openPage = async (token: string) => (await fetch(`${gw.url}/auth/magic-link?token=${token}`)).text();

const click = (fields: Record<string, string>) =>
  fetch(`${gw.url}/auth/magic-link`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin", origin: "null" },
    body: new URLSearchParams(fields).toString(),
  });

const buttonsOf = (html: string) => [...html.matchAll(/<button[^>]*value="(\w+)"[^>]*>([^<]+)<\/button>/g)].map((m) => [m[1], m[2]]);

/** The waiting device's view once the link was used: its first event is the current state. */
function stateOf(requestId: string, listenToken: string): Promise<{ state: string; auth: { status: string; tokens: { accessToken: string } | null } | null }> {
  return new Promise((resolve, reject) => {
    const stop = ws.subscribe(
      { query: print(MagicLinkStatusDocument), variables: { requestId, listenToken } },
      {
        next: (r) => {
          if (r.errors) reject(new Error(JSON.stringify(r.errors)));
          resolve((r.data as { magicLinkStatus: never }).magicLinkStatus);
          stop();
        },
        error: reject,
        complete: () => {},
      },
    );
  });
}

const sessionsOf = (email: string) => gw.db.db.prisma.session.count({ where: { user: { email } } });

describe("the link's page without a redirectUrl", () => {
  it("offers only 'Sign in on my other device' (with the number) and 'This wasn't me'", async () => {
    const link = await ask(newEmail());
    const html = await openPage(link.token);
    expect(buttonsOf(html)).toEqual([
      ["confirm", "Sign in on my other device"],
      ["deny", "This wasn't me"],
    ]);
    expect(html).toMatch(/name="matchCode"/);
    expect(html).not.toMatch(/this device only|both devices/i);
  });

  it("with the number signs in the device that asked, says this one is not, and opens no session for it", async () => {
    const email = newEmail();
    const link = await ask(email);
    const res = await click({ token: link.token, action: "confirm", matchCode: link.matchCode });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Your other device is signed in");
    expect(html).toContain("This device was not signed in");
    expect(html).not.toMatch(/You(&#39;|')re signed in|access_token|refresh_token/);

    const waiting = await stateOf(link.requestId, link.listenToken);
    expect(waiting.state).toBe("CONFIRMED");
    expect(waiting.auth!.status).toBe("AUTHENTICATED");
    expect((await gw.request(MeDocument, {}, { token: waiting.auth!.tokens!.accessToken })).data!.me!.email).toBe(email);
    // One device signed in, one session: none was made for tokens nobody receives.
    expect(await sessionsOf(email)).toBe(1);
  });

  it("refuses a hand-made 'this device only' and leaves the link unused for the right click", async () => {
    const email = newEmail();
    const link = await ask(email);
    const refused = await click({ token: link.token, action: "local" });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain("This link can only sign in the device that asked for it");
    expect(buttonsOf(html).map(([action]) => action)).toEqual(["confirm", "deny"]);
    expect(await sessionsOf(email)).toBe(0);

    expect((await click({ token: link.token, action: "confirm", matchCode: link.matchCode })).status).toBe(200);
    expect((await stateOf(link.requestId, link.listenToken)).state).toBe("CONFIRMED");
  });

  it("a used link says so, whatever is posted", async () => {
    const link = await ask(newEmail());
    expect((await click({ token: link.token, action: "confirm", matchCode: link.matchCode })).status).toBe(200);
    for (const fields of [{ action: "local" }, { action: "confirm", matchCode: link.matchCode }] as Array<Record<string, string>>) {
      const again = await click({ token: link.token, ...fields });
      expect(again.status).toBe(400);
      expect(await again.text()).toContain("This link can&#39;t be used");
    }
  });

  it("still asks for the number when it is left empty", async () => {
    const link = await ask(newEmail());
    const res = await click({ token: link.token, action: "confirm", matchCode: " " });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Enter the number shown on your other device.");
    expect((await click({ token: link.token, action: "confirm", matchCode: link.matchCode })).status).toBe(200);
  });
});

describe("the link's page with a redirectUrl", () => {
  it("offers both: both devices (with the number), this device only, and 'This wasn't me'", async () => {
    const link = await ask(newEmail(), APP);
    expect(buttonsOf(await openPage(link.token))).toEqual([
      ["confirm", "Sign in on both devices"],
      ["local", "Sign in on this device only"],
      ["deny", "This wasn't me"],
    ]);
  });

  it("'Sign in on both devices' sends this device to the app with its tokens and signs in the one that asked", async () => {
    const email = newEmail();
    const link = await ask(email, APP);
    const res = await click({ token: link.token, action: "confirm", matchCode: link.matchCode });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(APP);
    const here = new URLSearchParams(location.hash.slice(1)).get("access_token")!;
    expect((await gw.request(MeDocument, {}, { token: here })).data!.me!.email).toBe(email);
    const waiting = await stateOf(link.requestId, link.listenToken);
    expect(waiting.state).toBe("CONFIRMED");
    expect(waiting.auth!.tokens!.accessToken).not.toBe(here);
    expect(await sessionsOf(email)).toBe(2);
  });
});
