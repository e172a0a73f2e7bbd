import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { runGatewayToExit } from "../helpers/process";

// What an operator sees when a setting is wrong or a service is down at start: one
// readable answer and exit 1 (the orchestrator restarts the container), never a stack.
let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-startup-"));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

// A gateway that starts instead is stopped before the test times out.
const run = (env: Record<string, string>) => runGatewayToExit({ DATA_DIR: dataDir, PORT: "0", ...env }, 20_000);
const STACK_LINE = /^\s+at /m;

/** A port nothing listens on: bound once to get a free number, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const rsaKey = () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();

describe("a bad setting", () => {
  it.each([
    ["an unparsable PUBLIC_URL", { PUBLIC_URL: "foo" }, /^ {2}- PUBLIC_URL: is not a URL/m],
    ["an origin without a scheme", { ALLOWED_ORIGINS: "localhost:3000" }, /^ {2}- ALLOWED_ORIGINS: "localhost:3000" has no scheme/m],
    ["an RSA JWT_PRIVATE_KEY", { JWT_PRIVATE_KEY: rsaKey() }, /^ {2}- JWT_PRIVATE_KEY: is an RSA key; ES256 needs an EC P-256/m],
    ["a TOTP_ENCRYPTION_KEY of the wrong length", { TOTP_ENCRYPTION_KEY: "k1:c2hvcnQ=" }, /^ {2}- TOTP_ENCRYPTION_KEY: Key 'k1' must be 32 bytes/m],
    ["UK in SMS_ALLOWED_COUNTRIES", { SMS_ALLOWED_COUNTRIES: "UK" }, /^ {2}- SMS_ALLOWED_COUNTRIES: .*not one: UK \(UK is GB\)/m],
  ])("%s: the one 'Invalid settings' list, no stack, exit 1, before anything starts", async (_name, env, said) => {
    const { code, stdout, stderr } = await run(env);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Invalid settings:\n/);
    expect(stderr).toMatch(said);
    expect(stderr + stdout).not.toMatch(STACK_LINE);
    // Refused before migrations or keys: nothing was written.
    expect(stdout).toBe("");
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it("several at once: every one in the same list", async () => {
    const { code, stderr } = await run({ PUBLIC_URL: "foo", ALLOWED_ORIGINS: "localhost:3000", JWT_PRIVATE_KEY: rsaKey(), TOTP_ENCRYPTION_KEY: "short", SMS_ALLOWED_COUNTRIES: "UK" });
    expect(code).toBe(1);
    expect(stderr.match(/Invalid settings/g)).toHaveLength(1);
    const names = [...stderr.matchAll(/^ {2}- (\w+):/gm)].map((m) => m[1]).sort();
    expect(names).toEqual(["ALLOWED_ORIGINS", "JWT_PRIVATE_KEY", "PUBLIC_URL", "SMS_ALLOWED_COUNTRIES", "TOTP_ENCRYPTION_KEY"]);
    expect(stderr).not.toMatch(STACK_LINE);
  });
});

describe("a service that does not answer at start", () => {
  it.each([
    ["Postgres", "DATABASE_URL", (port: number) => `postgresql://gateway:hunter2@127.0.0.1:${port}/auth`, (port: number) => `postgresql://gateway:***@127.0.0.1:${port}/auth`],
    ["Redis", "REDIS_URL", (port: number) => `redis://:hunter2@127.0.0.1:${port}/0`, (port: number) => `redis://:***@127.0.0.1:${port}/0`],
    ["Redis Cluster", "REDIS_CLUSTER_NODES", (port: number) => `redis://:hunter2@127.0.0.1:${port}`, (port: number) => `redis://127.0.0.1:${port}`],
  ])("%s: a line naming it and its URL without the password, retried for STARTUP_RETRY_SECONDS, then exit 1", async (name, setting, url, redacted) => {
    const port = await closedPort();
    const { code, stdout, stderr } = await run({ [setting]: url(port), STARTUP_RETRY_SECONDS: "1" });
    expect(code).toBe(1);
    const messages = stdout.trim().split("\n").map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toEqual([
      `${name} at ${redacted(port)} is not available (connect ECONNREFUSED 127.0.0.1:${port}); retrying for up to 1 s`,
      expect.stringMatching(new RegExp(`^${name} at .* is not available \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\) after \\d+ attempts in 1 s; exiting$`)),
    ]);
    expect(stdout + stderr).not.toContain("hunter2");
    expect(stdout + stderr).not.toMatch(STACK_LINE);
  });
});
