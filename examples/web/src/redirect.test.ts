import { describe, expect, it } from "vitest";
import { newLinkState, readRedirect } from "./redirect";

const tokens = (extra: Record<string, string> = {}) =>
  "#" + new URLSearchParams({ access_token: "at", refresh_token: "rt", token_type: "Bearer", expires_in: "900", ...extra }).toString();

describe("the magic-link redirect's state", () => {
  it("signs in only when the fragment brings back the state this browser stored", () => {
    expect(readRedirect(tokens({ state: "s3cret" }), "s3cret")).toEqual({ kind: "tokens", refreshToken: "rt" });
    expect(readRedirect("#" + new URLSearchParams({ mfa_token: "m", mfa_methods: "TOTP,RECOVERY_CODE", state: "s3cret" }), "s3cret")).toEqual({
      kind: "mfa",
      mfaToken: "m",
      mfaMethods: ["TOTP", "RECOVERY_CODE"],
    });
  });

  it("refuses tokens with another state, no state, or when this browser asked for nothing (login CSRF)", () => {
    expect(readRedirect(tokens({ state: "attacker" }), "s3cret")).toEqual({ kind: "refused" });
    expect(readRedirect(tokens(), "s3cret")).toEqual({ kind: "refused" });
    expect(readRedirect(tokens({ state: "" }), null)).toEqual({ kind: "refused" });
    expect(readRedirect(tokens({ state: "anything" }), null)).toEqual({ kind: "refused" });
    expect(readRedirect("#" + new URLSearchParams({ mfa_token: "m", state: "attacker" }), "s3cret")).toEqual({ kind: "refused" });
  });

  it("ignores fragments that are not a redirect", () => {
    expect(readRedirect("", "s3cret")).toBeNull();
    expect(readRedirect("#section-2", null)).toBeNull();
  });

  it("stores a fresh, unguessable state before each request", () => {
    const stored = new Map<string, string>();
    const storage = { setItem: (k: string, v: string) => void stored.set(k, v) };
    const a = newLinkState(storage);
    const b = newLinkState(storage);
    expect(a).toMatch(/^[\w-]{32}$/);
    expect(b).not.toBe(a);
    expect([...stored.values()]).toEqual([b]);
  });
});
