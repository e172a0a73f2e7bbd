import { randomBytes } from "node:crypto";
import { open, seal, SealedPayloadError } from "./sealed-payload";

const key = randomBytes(32);
const message = { channel: "sms", to: "+14155550100", text: "Your code is 483920", purpose: "otp.sign_in", userId: null };

/** Re-encodes one base64url part of a sealed payload after `change` edits its bytes. */
function alter(sealed: string, part: 1 | 2 | 3, change: (bytes: Buffer) => Buffer): string {
  const parts = sealed.split(".");
  parts[part] = change(Buffer.from(parts[part], "base64url")).toString("base64url");
  return parts.join(".");
}
const flipFirstByte = (bytes: Buffer): Buffer => {
  const copy = Buffer.from(bytes);
  copy[0] ^= 0x01;
  return copy;
};

describe("seal / open", () => {
  it("opens what it sealed, under the same key", () => {
    expect(open(key, seal(key, message))).toEqual(message);
  });

  it("shows neither the code nor the address in the sealed text", () => {
    const sealed = seal(key, message);
    expect(sealed).not.toContain("483920");
    expect(sealed).not.toContain("14155550100");
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("draws a fresh 96-bit IV for every seal", () => {
    const [a, b] = [seal(key, message), seal(key, message)];
    expect(a).not.toBe(b);
    const ivA = Buffer.from(a.split(".")[1], "base64url");
    const ivB = Buffer.from(b.split(".")[1], "base64url");
    expect(ivA).toHaveLength(12);
    expect(ivA.equals(ivB)).toBe(false);
  });

  it("refuses a payload sealed under another key", () => {
    expect(() => open(randomBytes(32), seal(key, message))).toThrow(SealedPayloadError);
  });

  it.each([
    ["the ciphertext", 2],
    ["the IV", 1],
    ["the tag", 3],
  ] as const)("refuses a payload whose %s was changed", (_what, part) => {
    expect(() => open(key, alter(seal(key, message), part, flipFirstByte))).toThrow(SealedPayloadError);
  });

  it("refuses a truncated tag instead of checking fewer bits", () => {
    expect(() => open(key, alter(seal(key, message), 3, (tag) => tag.subarray(0, 4)))).toThrow(SealedPayloadError);
  });

  it.each([["plain text"], ["v2.a.b.c"], [""], [JSON.stringify(message)]])("refuses what is not a sealed payload: %j", (text) => {
    expect(() => open(key, text)).toThrow(SealedPayloadError);
  });

  it("says why it refused without quoting any of the payload", () => {
    expect(() => open(randomBytes(32), seal(key, message))).toThrow(/^the sealed payload failed authentication \(changed, or sealed under another key\)$/);
  });

  it("accepts only a 32-byte key", () => {
    expect(() => seal(randomBytes(16), message)).toThrow(RangeError);
    expect(() => open(randomBytes(31), seal(key, message))).toThrow(RangeError);
  });
});
