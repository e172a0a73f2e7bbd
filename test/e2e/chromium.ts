import { accessSync, constants } from "node:fs";
import { arch, platform } from "node:os";

/**
 * Where the browser tests find a Chromium, first match wins:
 * 1. `CHROMIUM_PATH`, when set (an explicit choice always wins);
 * 2. on Linux x64, the one `npm ci` brings (`@sparticuz/chromium`, unpacked once under the
 *    system's temp directory), so a fresh machine needs no system package;
 * 3. a system Chromium or Chrome at its usual place.
 * Nothing found: an error that says what to set.
 */
export async function findChromium(): Promise<string> {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!isExecutable(given)) throw new Error(`CHROMIUM_PATH=${given} is not an executable file: point it at a Chromium or Chrome binary, or unset it`);
    return given;
  }
  if (platform() === "linux" && arch() === "x64") {
    // An ES module: loaded with import() from this CommonJS build.
    const { default: bundled } = await import("@sparticuz/chromium");
    return bundled.executablePath();
  }
  const found = SYSTEM_CHROMIUMS.find(isExecutable);
  if (found) return found;
  throw new Error(
    `No Chromium for the browser tests on ${platform()}-${arch()}: set CHROMIUM_PATH to a Chromium or Chrome executable ` +
      `(e.g. CHROMIUM_PATH="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"). On Linux x64 npm ci brings one.`,
  );
}

const SYSTEM_CHROMIUMS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
