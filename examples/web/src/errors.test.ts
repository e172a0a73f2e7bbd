import { CombinedGraphQLErrors } from "@apollo/client/errors";
import type { GraphQLFormattedError } from "graphql";
import { describe, expect, it } from "vitest";
import { describeError, describePasskeyError, gatewayMessage, NETWORK_MESSAGE, PASSKEY_CANCELLED_MESSAGE, type ErrorCode } from "./errors";

/** Every `extensions.code` the gateway answers: the shared contract README's "Errors", plus our additions NOT_AVAILABLE and UNAVAILABLE. */
const CONTRACT_CODES: ErrorCode[] = [
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "INVALID_CODE",
  "CODE_EXPIRED",
  "TOO_MANY_ATTEMPTS",
  "RATE_LIMITED",
  "NOT_AVAILABLE",
  "UNAVAILABLE",
  "INTERNAL_SERVER_ERROR",
];

const failed = (error: GraphQLFormattedError) => new CombinedGraphQLErrors({ errors: [error] });
const withCode = (code: string, extensions: Record<string, unknown> = {}, message = "The server's own words.") => failed({ message, extensions: { code, ...extensions } });

describe("describeError", () => {
  it("has a sentence of its own for every contract code", () => {
    const sentences = CONTRACT_CODES.map((code) => describeError(withCode(code)));
    const fallback = describeError(withCode("SOMETHING_NEW"));
    for (const sentence of sentences) {
      expect(sentence).toMatch(/^[A-Z].*[.!]$/);
      expect(sentence).not.toBe(fallback);
    }
    expect(new Set(sentences).size).toBe(CONTRACT_CODES.length);
  });

  it("shows the gateway's own words for bad input (they name the field for people)", () => {
    expect(describeError(withCode("BAD_USER_INPUT", { field: "password" }, "Use at least 8 characters."))).toBe("Use at least 8 characters.");
  });

  it("counts the tries left, and says when none are", () => {
    expect(describeError(withCode("INVALID_CODE", { attemptsRemaining: 3 }))).toBe("That code isn't right. 3 tries left.");
    expect(describeError(withCode("INVALID_CODE", { attemptsRemaining: 1 }))).toBe("That code isn't right. 1 try left.");
    expect(describeError(withCode("INVALID_CODE", { attemptsRemaining: 0 }))).toMatch(/No tries left/);
    expect(describeError(withCode("INVALID_CODE"))).toBe("That code isn't right.");
  });

  it("puts retryAfter in words", () => {
    expect(describeError(withCode("RATE_LIMITED", { retryAfter: 42 }))).toBe("Too many tries. Please try again in 42 seconds.");
    expect(describeError(withCode("RATE_LIMITED", { retryAfter: 90 }))).toBe("Too many tries. Please try again in 2 minutes.");
    expect(describeError(withCode("RATE_LIMITED", { retryAfter: 3600 }))).toBe("Too many tries. Please try again in 1 hour.");
  });

  it("lets a screen say it better, and never shows internals", () => {
    expect(describeError(withCode("UNAUTHENTICATED"), { UNAUTHENTICATED: "Wrong email or password." })).toBe("Wrong email or password.");
    expect(describeError(withCode("INTERNAL_SERVER_ERROR", {}, "relation users does not exist"))).not.toMatch(/relation/);
  });

  it("tells a failed network apart from a refusal", () => {
    expect(describeError(new TypeError("Failed to fetch"))).toBe(NETWORK_MESSAGE);
    expect(describeError(null)).toBeNull();
  });
});

describe("describePasskeyError", () => {
  const browser = (name: string) => new DOMException("The browser's own words.", name);

  it("says a closed or timed-out prompt was cancelled (the browser does not tell which)", () => {
    expect(describePasskeyError(browser("NotAllowedError"))).toBe(PASSKEY_CANCELLED_MESSAGE);
  });

  it("says nothing for a request the app aborted itself (autofill stopped)", () => {
    expect(describePasskeyError(browser("AbortError"))).toBeNull();
    expect(describePasskeyError(null)).toBeNull();
  });

  it("has a sentence for each other browser refusal, never the browser's own words", () => {
    const names = ["InvalidStateError", "NotSupportedError", "SecurityError", "UnknownError"];
    const sentences = names.map((name) => describePasskeyError(browser(name)));
    for (const sentence of sentences) expect(sentence).toMatch(/^[A-Z].*[.!]$/);
    expect(sentences.join(" ")).not.toMatch(/browser's own words/);
    expect(new Set(sentences).size).toBe(names.length);
    expect(describePasskeyError(browser("InvalidStateError"))).toBe("This device already has a passkey for your account.");
  });

  it("maps the gateway's refusals as describeError does, with the screen's wording", () => {
    expect(describePasskeyError(withCode("BAD_USER_INPUT", { field: "id" }, "This is your only way to sign in."))).toBe("This is your only way to sign in.");
    expect(describePasskeyError(withCode("UNAUTHENTICATED"), { UNAUTHENTICATED: "That passkey isn't registered here." })).toBe("That passkey isn't registered here.");
    expect(describePasskeyError(withCode("RATE_LIMITED", { retryAfter: 42 }))).toBe("Too many tries. Please try again in 42 seconds.");
  });
});

describe("gatewayMessage", () => {
  it("is the gateway's own words, and nothing for a failed network", () => {
    expect(gatewayMessage(withCode("FORBIDDEN", {}, "Prove your email address first."))).toBe("Prove your email address first.");
    expect(gatewayMessage(new TypeError("Failed to fetch"))).toBeUndefined();
    expect(gatewayMessage(null)).toBeUndefined();
  });
});
