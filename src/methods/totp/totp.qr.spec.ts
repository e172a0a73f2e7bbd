import jsQR from "jsqr";
import { PNG } from "pngjs";
import { otpauthUrl } from "./totp.algorithm";
import { qrCodeDataUrl } from "./totp.qr";

const PREFIX = "data:image/png;base64,";

/** Reads a QR data URL back the way a phone camera would: PNG pixels into a QR decoder. */
function decodeQrDataUrl(dataUrl: string): string | undefined {
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(PREFIX.length), "base64"));
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height)?.data;
}

describe("qrCodeDataUrl", () => {
  it("is a PNG data URL", async () => {
    const dataUrl = await qrCodeDataUrl("hello");
    expect(dataUrl.startsWith(PREFIX)).toBe(true);
    expect(Buffer.from(dataUrl.slice(PREFIX.length), "base64").subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it.each([
    ["an email with + and an issuer with a space", "Acme Auth", "jane+totp@example.com"],
    ["a plain email", "Acme", "jane@example.com"],
    ["non-ASCII characters", "Zürich Bank", "josé@example.com"],
  ])("decodes back to exactly the otpauth URI, for %s", async (_name, issuer, account) => {
    const url = otpauthUrl({ secretBase32: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", issuer, account });
    expect(decodeQrDataUrl(await qrCodeDataUrl(url))).toBe(url);
  });

  it("uses error correction level M", async () => {
    // Level M at version 1 holds up to 14 bytes; 15 bytes needs version 2 (25 modules),
    // while level L would still fit version 1 (21 modules). margin 4 + scale 6 => (n + 8) * 6 px.
    const png = (url: string) => PNG.sync.read(Buffer.from(url.slice(PREFIX.length), "base64"));
    expect(png(await qrCodeDataUrl("a".repeat(14))).width).toBe((21 + 8) * 6);
    expect(png(await qrCodeDataUrl("a".repeat(15))).width).toBe((25 + 8) * 6);
  });
});
