import { AuthError } from "../../core/errors";
import { maskDestination, parseDestination } from "./destination";

describe("parseDestination", () => {
  it("lower-cases and trims emails", () => {
    expect(parseDestination("EMAIL", "  Jo@Example.COM ")).toEqual({ channel: "EMAIL", address: "jo@example.com" });
  });
  it("parses phones to E.164 with their country", () => {
    expect(parseDestination("SMS", "+44 7400 123456")).toEqual({ channel: "SMS", address: "+447400123456", country: "GB" });
  });
  it.each([
    ["EMAIL", "nope"],
    ["SMS", "07911 123456"],
    ["SMS", ""],
  ] as const)("refuses %s %j naming the field", (channel, raw) => {
    let error: unknown;
    try {
      parseDestination(channel, raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).details.field).toBe("destination");
  });
});

describe("maskDestination", () => {
  it("masks an email's local part", () => {
    expect(maskDestination({ channel: "EMAIL", address: "jane@example.com" })).toBe("j***@example.com");
  });
  it("masks a phone's middle digits", () => {
    expect(maskDestination({ channel: "SMS", address: "+447911123789" })).toBe("+44*******789");
  });
});
