import { MeDocument, RequestMagicLinkDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

// Login CSRF: an attacker asks for a link to their own address and makes the victim's
// browser use it; the victim ends up signed in to the attacker's account.
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { ALLOWED_ORIGINS: "https://app.example.test", MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0" } });
});
afterAll(() => gw.close());

const APP = "https://app.example.test/welcome";

async function linkFor(email: string, input: { redirectUrl?: string; state?: string } = {}): Promise<string> {
  const r = await gw.request(RequestMagicLinkDocument, { input: { email, redirectUrl: APP, ...input } });
  expect(r.errors).toBeUndefined();
  const [newest] = await gw.sentTo(email);
  return newest.text.match(/token=([\w-]+)/)![1];
}

const usePage = (token: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/auth/magic-link`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token, action: "local" }).toString(),
  });

const fragmentOf = (res: Response) => new URLSearchParams(new URL(res.headers.get("location")!).hash.slice(1));

describe("POST /auth/magic-link from another site", () => {
  it.each([
    ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site", origin: "null" }],
    ["a foreign Origin", { origin: "https://evil.example" }],
    ["a foreign Origin claiming same-site", { origin: "https://evil.example", "sec-fetch-site": "same-site" }],
    ["Origin null without fetch metadata (an old browser on a no-referrer page)", { origin: "null" }],
    ["Origin null from a same-site page", { origin: "null", "sec-fetch-site": "same-site" }],
  ])("is refused with a plain 403 page for %s, and the link stays unused", async (_name, headers) => {
    const email = `csrf-${Math.random().toString(36).slice(2)}@example.com`;
    const token = await linkFor(email);
    const res = await usePage(token, headers);
    expect(res.status).toBe(403);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const text = await res.text();
    expect(text).not.toMatch(/access_token|refresh_token/);
    // Nobody was signed in: the owner's own click still works.
    expect((await usePage(token, { "sec-fetch-site": "same-origin", origin: "null" })).status).toBe(303);
  });

  it.each([
    ["the page's own form in a browser that sends Origin null for it", () => ({ "sec-fetch-site": "same-origin", origin: "null" })],
    ["the gateway's own origin (PUBLIC_URL's)", () => ({ origin: new URL(gw.settings.publicUrl).origin })],
    ["an ALLOWED_ORIGINS origin", () => ({ origin: "https://app.example.test", "sec-fetch-site": "same-site" })],
    ["a client without browser headers", () => ({})],
  ])("is accepted from %s", async (_name, headers: () => Record<string, string>) => {
    const token = await linkFor(`ok-${Math.random().toString(36).slice(2)}@example.com`);
    expect((await usePage(token, headers())).status).toBe(303);
  });
});

describe("requestMagicLink(state:)", () => {
  it("is echoed in the redirect's fragment beside the tokens", async () => {
    const token = await linkFor("state@example.com", { state: "s-Tq2vX9_abc" });
    const res = await usePage(token);
    expect(res.status).toBe(303);
    const fragment = fragmentOf(res);
    expect(fragment.get("state")).toBe("s-Tq2vX9_abc");
    expect((await gw.request(MeDocument, {}, { token: fragment.get("access_token")! })).data!.me!.email).toBe("state@example.com");
  });

  it("is encoded in the fragment, whatever characters it holds", async () => {
    const state = "a&b=c#d é/?";
    const res = await usePage(await linkFor("state-chars@example.com", { state }));
    expect(fragmentOf(res).get("state")).toBe(state);
  });

  it("is left out when the client gave none", async () => {
    const res = await usePage(await linkFor("no-state@example.com"));
    expect(fragmentOf(res).has("state")).toBe(false);
    expect(fragmentOf(res).has("refresh_token")).toBe(true);
  });

  it("is refused when longer than 256 characters or holding control characters", async () => {
    for (const state of ["x".repeat(257), "line\nbreak"]) {
      const r = await gw.request(RequestMagicLinkDocument, { input: { email: "long-state@example.com", redirectUrl: APP, state } });
      expect(errorCode(r)).toBe("BAD_USER_INPUT");
      expect(r.errors![0].extensions!.field).toBe("state");
    }
    expect(errorCode(await gw.request(RequestMagicLinkDocument, { input: { email: "long-state@example.com", redirectUrl: APP, state: "x".repeat(256) } }))).toBeUndefined();
  });
});
