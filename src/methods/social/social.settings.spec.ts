import { generateKeyPairSync } from "node:crypto";
import { loadSettings, settingsProblems } from "../../config/settings";

const problemsOf = settingsProblems;
const appleKey = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();

describe("social settings", () => {
  it("enable no provider by default, with sign-up on and the documented limits", () => {
    expect(loadSettings({}).social).toEqual({
      providers: [],
      signUp: true,
      stateTtlSeconds: 600,
      timeoutMs: 10_000,
      limits: {
        startPerIp: { max: 120, windowSeconds: 3600 },
        completePerIp: { max: 120, windowSeconds: 3600 },
        idTokenPerIp: { max: 120, windowSeconds: 3600 },
      },
    });
  });

  it("enable a preset with its settings and defaults: Google trusts emails, Microsoft does not", () => {
    const { providers } = loadSettings({
      GOOGLE_CLIENT_ID: "g-id",
      GOOGLE_CLIENT_SECRET: "g-secret",
      GOOGLE_AUDIENCES: "android-id, ios-id",
      MICROSOFT_CLIENT_ID: "m-id",
      MICROSOFT_CLIENT_SECRET: "m-secret",
      MICROSOFT_TENANT: "organizations",
    }).social;
    expect(providers).toEqual([
      expect.objectContaining({ id: "google", kind: "oidc", issuer: "https://accounts.google.com", scopes: ["openid", "email", "profile"], audiences: ["android-id", "ios-id"], trustEmail: true, idTokenSignIn: true }),
      expect.objectContaining({ id: "microsoft", issuer: "https://login.microsoftonline.com/organizations/v2.0", trustEmail: false, idTokenSignIn: false }),
    ]);
  });

  it("take Apple's key (with \\n escapes) instead of a secret, and GitHub's Enterprise URLs", () => {
    const { providers } = loadSettings({
      APPLE_CLIENT_ID: "com.example.web",
      APPLE_TEAM_ID: "TEAM123456",
      APPLE_KEY_ID: "KEY1234567",
      APPLE_PRIVATE_KEY: appleKey().replace(/\n/g, "\\n"),
      GITHUB_CLIENT_ID: "gh-id",
      GITHUB_CLIENT_SECRET: "gh-secret",
      GITHUB_URL: "https://github.example.com/",
      GITHUB_API_URL: "https://github.example.com/api/v3",
    }).social;
    expect(providers[0]).toMatchObject({ id: "apple", clientSecret: null, apple: { teamId: "TEAM123456", keyId: "KEY1234567" }, scopes: ["openid", "email", "name"] });
    expect(providers[1]).toMatchObject({ id: "github", kind: "github", webUrl: "https://github.example.com", apiUrl: "https://github.example.com/api/v3", scopes: ["read:user", "user:email"] });
  });

  it("are all or none per provider: one error names every missing setting", () => {
    const problems = problemsOf({ GOOGLE_CLIENT_ID: "g-id", APPLE_TEAM_ID: "T", GITHUB_CLIENT_SECRET: "s" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["APPLE_CLIENT_ID", "APPLE_KEY_ID", "APPLE_PRIVATE_KEY", "GITHUB_CLIENT_ID", "GOOGLE_CLIENT_SECRET"]);
    expect(problems.find((p) => p.startsWith("GOOGLE_CLIENT_SECRET"))).toMatch(/required with GOOGLE_CLIENT_ID/);
  });

  it("read generic providers by id, with their own variables, untrusted emails by default", () => {
    const { providers } = loadSettings({
      OIDC_PROVIDERS: "acme, my-idp",
      OIDC_ACME_ISSUER: "https://login.acme.example",
      OIDC_ACME_CLIENT_ID: "a",
      OIDC_ACME_CLIENT_SECRET: "b",
      OIDC_ACME_NAME: "Acme SSO",
      OIDC_MY_IDP_ISSUER: "http://127.0.0.1:9000",
      OIDC_MY_IDP_CLIENT_ID: "c",
      OIDC_MY_IDP_CLIENT_SECRET: "d",
      OIDC_MY_IDP_TRUST_EMAIL: "true",
    }).social;
    expect(providers).toEqual([
      expect.objectContaining({ id: "acme", name: "Acme SSO", issuer: "https://login.acme.example", trustEmail: false, insecure: false }),
      expect.objectContaining({ id: "my-idp", name: "my-idp", trustEmail: true, insecure: true }),
    ]);
  });

  it("name every bad generic setting: ids, missing parts, strays, http:// in production, scopes without openid", () => {
    const problems = problemsOf({
      NODE_ENV: "production",
      OIDC_PROVIDERS: "acme,google,Bad_Id,acme",
      OIDC_ACME_ISSUER: "http://login.acme.example",
      OIDC_ACME_SCOPES: "email profile",
      OIDC_OKTA_CLIENT_ID: "stray",
    }).filter((p) => /^(OIDC_|SOCIAL_)/.test(p));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^OIDC_PROVIDERS: "google" is a preset/),
        expect.stringMatching(/^OIDC_PROVIDERS: "Bad_Id" is not an id/),
        expect.stringMatching(/^OIDC_PROVIDERS: "acme" is listed twice/),
        expect.stringMatching(/^OIDC_ACME_CLIENT_ID: required/),
        expect.stringMatching(/^OIDC_ACME_CLIENT_SECRET: required/),
        expect.stringMatching(/^OIDC_ACME_ISSUER: must start with https:\/\/ in production/),
        expect.stringMatching(/^OIDC_ACME_SCOPES: must include "openid"/),
        expect.stringMatching(/^OIDC_OKTA_CLIENT_ID: belongs to no provider/),
      ]),
    );
  });

  it("trust GitHub.com's verified primary email by default, an Enterprise Server's only when said so", () => {
    const github = { GITHUB_CLIENT_ID: "g", GITHUB_CLIENT_SECRET: "s" };
    const trustOf = (env: Record<string, string>) => loadSettings(env).social.providers.find((p) => p.id === "github")!.trustEmail;
    expect(trustOf(github)).toBe(true);
    expect(trustOf({ ...github, GITHUB_URL: "https://github.example.com", GITHUB_API_URL: "https://github.example.com/api/v3" })).toBe(false);
    expect(trustOf({ ...github, GITHUB_URL: "https://github.example.com", GITHUB_API_URL: "https://github.example.com/api/v3", GITHUB_TRUST_EMAIL: "true" })).toBe(true);
  });

  it("refuse trusting Microsoft emails from every tenant (common, organizations); one tenant may be trusted", () => {
    const microsoft = { MICROSOFT_CLIENT_ID: "m", MICROSOFT_CLIENT_SECRET: "s", MICROSOFT_TRUST_EMAIL: "true" };
    expect(problemsOf(microsoft)).toEqual([expect.stringMatching(/^MICROSOFT_TRUST_EMAIL: must stay false with MICROSOFT_TENANT=common/)]);
    expect(problemsOf({ ...microsoft, MICROSOFT_TENANT: "Organizations" })).toEqual([expect.stringMatching(/^MICROSOFT_TRUST_EMAIL: /)]);
    expect(problemsOf({ ...microsoft, MICROSOFT_TENANT: "contoso.onmicrosoft.com" })).toEqual([]);
  });

  it("refuse an Apple key that is not P-256 and a bad tenant, without echoing the key", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const problems = problemsOf({
      APPLE_CLIENT_ID: "a",
      APPLE_TEAM_ID: "b",
      APPLE_KEY_ID: "c",
      APPLE_PRIVATE_KEY: rsa,
      MICROSOFT_CLIENT_ID: "m",
      MICROSOFT_CLIENT_SECRET: "s",
      MICROSOFT_TENANT: "no/slashes",
    });
    expect(problems).toEqual([expect.stringMatching(/^APPLE_PRIVATE_KEY: must be the EC P-256 key/), expect.stringMatching(/^MICROSOFT_TENANT: /)]);
    expect(problems.join("\n")).not.toContain("PRIVATE KEY-----");
  });
});
