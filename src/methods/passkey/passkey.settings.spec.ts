import { loadSettings, settingsProblems } from "../../config/settings";
import { relyingParty } from "./passkey.settings";

const problemsOf = settingsProblems;
const rpOf = (env: Record<string, string>) => {
  const s = loadSettings(env);
  return relyingParty(s.passkey, s);
};

describe("passkey settings", () => {
  it("default to PUBLIC_URL's host and origin, APP_NAME, 300 s and attestation none", () => {
    const s = loadSettings({ PUBLIC_URL: "https://auth.example.com", APP_NAME: "Acme" });
    expect(s.passkey).toEqual({ enabled: true, rpId: undefined, rpName: undefined, origins: [], timeoutSeconds: 300, attestation: "none" });
    expect(relyingParty(s.passkey, s)).toEqual({ rpId: "auth.example.com", rpName: "Acme", origins: ["https://auth.example.com"] });
  });

  it("take ALLOWED_ORIGINS the rpId covers, and leave out (without an error) CORS origins on other domains", () => {
    const env = { PUBLIC_URL: "https://auth.example.com", PASSKEY_RP_ID: "example.com", ALLOWED_ORIGINS: "https://app.example.com,https://partner.test" };
    expect(problemsOf(env)).toEqual([]);
    expect(rpOf(env).origins).toEqual(["https://auth.example.com", "https://app.example.com"]);
  });

  it("take PASSKEY_ORIGINS as given", () => {
    expect(rpOf({ PASSKEY_RP_ID: "example.com", PASSKEY_ORIGINS: "https://example.com,https://www.example.com" }).origins).toEqual([
      "https://example.com",
      "https://www.example.com",
    ]);
  });

  it("refuse at start an origin the rpId does not cover", () => {
    expect(problemsOf({ PASSKEY_RP_ID: "example.com", PASSKEY_ORIGINS: "https://example.com,https://example.org" })).toEqual([
      expect.stringMatching(/^PASSKEY_RP_ID: "example.com" does not cover the origin https:\/\/example.org/),
    ]);
    // A look-alike suffix is no subdomain.
    expect(problemsOf({ PASSKEY_RP_ID: "example.com", PASSKEY_ORIGINS: "https://badexample.com" })).toHaveLength(1);
    expect(problemsOf({ PUBLIC_URL: "https://auth.example.com", PASSKEY_RP_ID: "other.com" })).toHaveLength(1);
  });

  it("say nothing about the relying party when passkeys are off", () => {
    expect(problemsOf({ PASSKEY_ENABLED: "false", PASSKEY_RP_ID: "example.com", PASSKEY_ORIGINS: "https://example.org" })).toEqual([]);
  });

  it.each([
    ["PASSKEY_RP_ID", "https://example.com"],
    ["PASSKEY_RP_ID", "Example.com"],
    ["PASSKEY_ORIGINS", "example.com"],
    ["PASSKEY_ORIGINS", "https://example.com/login"],
    ["PASSKEY_TIMEOUT_SECONDS", "10"],
    ["PASSKEY_TIMEOUT_SECONDS", "601"],
    ["PASSKEY_ATTESTATION", "enterprise"],
  ])("refuse %s=%s", (variable, value) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems.some((p) => p.startsWith(`${variable}:`))).toBe(true);
    expect(problems.filter((p) => p.includes("does not cover"))).toEqual([]);
  });
});
