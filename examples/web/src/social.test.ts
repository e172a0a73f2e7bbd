import { describe, expect, it } from "vitest";
import { beginSocial, providerErrorMessage, readPending, readSocialCallback, socialRedirectUrl, type PendingSocial } from "./social";

const pending = (purpose: PendingSocial["purpose"] = "signIn"): PendingSocial => ({ state: "s3cret", purpose, provider: "acme", providerName: "Acme" });
const query = (params: Record<string, string>) => "?" + new URLSearchParams(params).toString();

/** A Storage with only what the functions use, over a Map. */
function memoryStorage() {
  const values = new Map<string, string>();
  return { values, getItem: (k: string) => values.get(k) ?? null, setItem: (k: string, v: string) => void values.set(k, v) };
}

describe("the social callback's state", () => {
  it("takes the one-time code only with the state this tab stored", () => {
    expect(readSocialCallback(query({ code: "c0de", state: "s3cret" }), pending())).toEqual({ kind: "code", code: "c0de", providerName: "Acme" });
    expect(readSocialCallback(query({ link_code: "l1nk", state: "s3cret" }), pending("link"))).toEqual({ kind: "linkCode", code: "l1nk", providerName: "Acme" });
  });

  it("refuses a link code with another state, none, or when this tab started no link (linking CSRF)", () => {
    const refused = { kind: "failed", purpose: "link", message: expect.stringMatching(/nothing was linked/) };
    expect(readSocialCallback(query({ link_code: "l1nk", state: "attacker" }), pending("link"))).toEqual(refused);
    expect(readSocialCallback(query({ link_code: "l1nk" }), pending("link"))).toEqual(refused);
    expect(readSocialCallback(query({ link_code: "l1nk", state: "anything" }), null)).toEqual(refused);
  });

  it("refuses a code with another state, none, or when this tab started nothing (login CSRF)", () => {
    const refused = { kind: "failed", purpose: "signIn", message: expect.stringMatching(/not started in this browser/) };
    expect(readSocialCallback(query({ code: "c0de", state: "attacker" }), pending())).toEqual(refused);
    expect(readSocialCallback(query({ code: "c0de" }), pending())).toEqual(refused);
    expect(readSocialCallback(query({ code: "c0de", state: "anything" }), null)).toEqual(refused);
    expect(readSocialCallback(query({ code: "c0de", state: "" }), null)).toEqual(refused);
  });

  it("refuses an error page's words without the state, and a result of the other purpose", () => {
    expect(readSocialCallback(query({ error: "access_denied", state: "attacker" }), pending())).toMatchObject({ kind: "failed", message: expect.stringMatching(/not started/) });
    expect(readSocialCallback(query({ code: "c0de", state: "s3cret" }), pending("link"))).toMatchObject({ kind: "failed", purpose: "link" });
    expect(readSocialCallback(query({ link_code: "l1nk", state: "s3cret" }), pending())).toMatchObject({ kind: "failed", purpose: "signIn" });
    // The old ?linked= is no callback any more: the gateway links nothing without completeLinkIdentity.
    expect(readSocialCallback(query({ linked: "acme", state: "s3cret" }), pending("link"))).toBeNull();
  });

  it("turns the gateway's error into a sentence naming the provider", () => {
    expect(readSocialCallback(query({ error: "access_denied", state: "s3cret" }), pending())).toEqual({
      kind: "failed",
      purpose: "signIn",
      message: "You cancelled signing in with Acme (or didn't allow it), so you're not signed in.",
    });
    expect(providerErrorMessage("access_denied", "link", "Acme")).toMatch(/nothing was linked/);
    expect(providerErrorMessage("temporarily_unavailable", "signIn", "Acme")).toBe("Acme can't be reached right now. Please try again in a moment.");
    expect(providerErrorMessage("identity_in_use", "link", "Acme")).toBe("That Acme account is already linked to another account here, so it was not linked.");
    expect(providerErrorMessage("server_error", "signIn", "Acme")).toBe("Signing in with Acme didn't work (server_error). Please try again, or sign in another way.");
    // Anyone can write the URL: free text is not repeated on screen.
    expect(providerErrorMessage("Call +1 555 0100 for help", "signIn", "Acme")).toBe("Signing in with Acme didn't work. Please try again, or sign in another way.");
  });

  it("ignores a query that is not a callback", () => {
    expect(readSocialCallback("", pending())).toBeNull();
    expect(readSocialCallback(query({ state: "s3cret" }), pending())).toBeNull();
    expect(readSocialCallback(query({ utm_source: "mail" }), null)).toBeNull();
  });
});

describe("the state stored before leaving for the provider", () => {
  it("is fresh and unguessable each time, with what the callback needs to say", () => {
    const storage = memoryStorage();
    const a = beginSocial("signIn", { id: "acme", name: "Acme" }, storage);
    const b = beginSocial("link", { id: "google", name: "Google" }, storage);
    expect(a).toMatch(/^[\w-]{32}$/);
    expect(b).not.toBe(a);
    expect(readPending(storage)).toEqual({ state: b, purpose: "link", provider: "google", providerName: "Google" });
  });

  it("counts as none when missing or not ours", () => {
    const storage = memoryStorage();
    expect(readPending(storage)).toBeNull();
    storage.values.set("graphql-auth-gateway:social-state", "not json");
    expect(readPending(storage)).toBeNull();
    storage.values.set("graphql-auth-gateway:social-state", JSON.stringify({ state: 1, purpose: "signIn" }));
    expect(readPending(storage)).toBeNull();
  });

  it("sends the provider back to the app's callback route", () => {
    expect(socialRedirectUrl("http://localhost:5173")).toBe("http://localhost:5173/sign-in/callback");
  });
});
