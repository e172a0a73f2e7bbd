import { DeliveryError, httpDeliveryError, networkDeliveryError, parseRetryAfter, toDeliveryError } from "./delivery.error";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads delay-seconds", () => {
    expect(parseRetryAfter("1", now)).toBe(1_000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
  });

  it("reads an HTTP date, relative to now", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  });

  it("ignores what is neither", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("-1", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});

describe("httpDeliveryError", () => {
  it.each([408, 429, 500, 502, 503, 504])("retries HTTP %i", (status) => {
    expect(httpDeliveryError(status)).toMatchObject({ retryable: true, status, reason: `HTTP ${status}` });
  });

  it.each([400, 401, 403, 404, 422])("does not retry HTTP %i", (status) => {
    expect(httpDeliveryError(status, { retryAfter: "5" })).toMatchObject({ retryable: false, status, retryAfterMs: undefined });
  });

  it("keeps Retry-After on a retryable answer", () => {
    expect(httpDeliveryError(429, { retryAfter: "2" }).retryAfterMs).toBe(2_000);
  });
});

describe("networkDeliveryError", () => {
  it.each([
    ["ECONNREFUSED", "network error (ECONNREFUSED)"],
    ["ECONNRESET", "network error (ECONNRESET)"],
    ["ECONNABORTED", "timeout (ECONNABORTED)"],
    ["ETIMEDOUT", "timeout (ETIMEDOUT)"],
  ])("retries %s", (code, reason) => {
    expect(networkDeliveryError(Object.assign(new Error("x"), { code }))).toMatchObject({ retryable: true, reason });
  });

  it("is null for anything else", () => {
    expect(networkDeliveryError(new Error("x"))).toBeNull();
    expect(networkDeliveryError(Object.assign(new Error("x"), { code: "EAUTH" }))).toBeNull();
  });
});

describe("toDeliveryError", () => {
  it("keeps a DeliveryError as it is", () => {
    const error = new DeliveryError("HTTP 400", { retryable: false });
    expect(toDeliveryError(error)).toBe(error);
  });

  it("retries an unknown failure, naming only its type", () => {
    expect(toDeliveryError(new TypeError("secret 123456 in a message"))).toMatchObject({ retryable: true, reason: "unexpected error (TypeError)" });
  });
});
