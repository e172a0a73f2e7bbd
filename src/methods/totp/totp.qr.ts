import { toDataURL } from "qrcode";

/**
 * A PNG data URL of a QR code for `text` (the otpauth:// URI), for the enrollment screen.
 * Error correction M: readable from a slightly blurred phone photo without a denser code.
 */
export function qrCodeDataUrl(text: string): Promise<string> {
  return toDataURL(text, { type: "image/png", errorCorrectionLevel: "M", margin: 4, scale: 6 });
}
