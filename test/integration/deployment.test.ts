import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { loadSettings } from "../../src/config/settings";

const root = path.resolve(__dirname, "../..");

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  env_file?: unknown;
  healthcheck?: unknown;
}

/** What an operator puts in .env, as .env.example asks. */
const REQUIRED_IN_DOT_ENV: Record<string, string> = {
  // Settings read the key: it must be a real P-256 one.
  JWT_PRIVATE_KEY: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString().replace(/\n/g, "\\n"),
  TOTP_ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
};

/** docker-compose cannot run here (no Docker engine); this holds the file to what the gateway needs. */
describe("docker-compose.yml", () => {
  const compose = parse(fs.readFileSync(path.join(root, "docker-compose.yml"), "utf8")) as { services: Record<string, ComposeService> };
  const gateway = compose.services.gateway;

  it("runs Postgres, Redis, Mailpit and the gateway built from the Dockerfile", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["gateway", "mailpit", "postgres", "redis"]);
    expect(gateway.build).toBe(".");
    expect(fs.existsSync(path.join(root, "Dockerfile"))).toBe(true);
    for (const dep of Object.keys(gateway.depends_on ?? {})) expect(compose.services[dep]).toBeDefined();
    expect(gateway.depends_on).toMatchObject({ postgres: { condition: "service_healthy" }, redis: { condition: "service_healthy" } });
    // Any other setting a user puts in .env (PASSKEY_*, GOOGLE_*…) reaches the gateway; none is needed.
    expect(gateway.env_file).toEqual([{ path: ".env", required: false }]);
  });

  it("gives the gateway settings that pass production's checks", () => {
    // Interpolate ${VAR:-default} / ${VAR:?msg} the way compose does, with a key in .env.
    const env = Object.fromEntries(
      Object.entries(gateway.environment ?? {}).map(([k, v]) => [
        k,
        String(v).replace(/\$\{(\w+)(?::[-?]([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) =>
          REQUIRED_IN_DOT_ENV[name] ?? fallback ?? "",
        ),
      ]),
    );
    expect(env.NODE_ENV).toBe("production");
    const settings = loadSettings(env);
    expect(settings.databaseUrl).toMatch(/@postgres:5432\//);
    expect(settings.redisUrl).toBe("redis://redis:6379");
    expect(settings.mail.smtpUrl).toBe("smtp://mailpit:1025");
    expect(settings.sms.enabled).toBe(false);
    // Outside a container the default is 127.0.0.1; inside one the port must be reachable.
    expect(settings.host).toBe("0.0.0.0");
  });

  it("builds an image that listens on every interface (the gateway's default is 127.0.0.1)", () => {
    expect(fs.readFileSync(path.join(root, "Dockerfile"), "utf8")).toMatch(/^ENV .*\bHOST=0\.0\.0\.0\b/m);
  });
});
