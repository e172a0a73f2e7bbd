import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { URI, type TOTP } from "otpauth";
import {
  CompleteLinkIdentityDocument,
  CompleteSocialSignInDocument,
  ConfirmTotpDocument,
  EnrollTotpDocument,
  IdentityProvidersDocument,
  LinkIdentityDocument,
  LoginDocument,
  LogoutDocument,
  MyIdentitiesDocument,
  RequestOtpDocument,
  SignInWithIdTokenDocument,
  SignUpDocument,
  StartSocialSignInDocument,
  UnlinkIdentityDocument,
  VerifyOtpDocument,
} from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { startGithubEndpoint, type GithubEndpoint } from "../helpers/github-endpoint";
import { formPostBody, startOidcProvider, type OidcTestProvider, type OidcUser } from "../helpers/oidc-provider";

/*
 * Social and OpenID sign-in against a real OpenID Provider (oidc-provider, in process) and a
 * local GitHub, over real Postgres and Redis. PUBLIC_URL is where providers send the browser
 * back; the test plays the browser and delivers that request to the gateway itself.
 */
const PUBLIC_URL = "http://localhost:4999";
const APP = "http://app.test";
const callbackOf = (id: string) => `${PUBLIC_URL}/auth/social/${id}/callback`;

let acme: OidcTestProvider; // trusted emails
let entra: OidcTestProvider; // untrusted emails, like Microsoft's
let github: GithubEndpoint;
let gw: TestGateway;
let socialEnv: Record<string, string>;

beforeAll(async () => {
  [acme, entra, github] = await Promise.all([
    startOidcProvider({ redirectUris: [callbackOf("acme")] }),
    startOidcProvider({ redirectUris: [callbackOf("entra")] }),
    startGithubEndpoint({ callbackUrls: [callbackOf("github")] }),
  ]);
  socialEnv = {
      PUBLIC_URL,
      ALLOWED_ORIGINS: APP,
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      OIDC_PROVIDERS: "acme,entra",
      OIDC_ACME_ISSUER: acme.issuer,
      OIDC_ACME_CLIENT_ID: acme.clientId,
      OIDC_ACME_CLIENT_SECRET: acme.clientSecret,
      OIDC_ACME_NAME: "Acme SSO",
      OIDC_ACME_TRUST_EMAIL: "true",
      OIDC_ENTRA_ISSUER: entra.issuer,
      OIDC_ENTRA_CLIENT_ID: entra.clientId,
      OIDC_ENTRA_CLIENT_SECRET: entra.clientSecret,
      GITHUB_CLIENT_ID: github.clientId,
      GITHUB_CLIENT_SECRET: github.clientSecret,
      GITHUB_URL: github.baseUrl,
      GITHUB_API_URL: github.apiUrl,
      // A GitHub at another address is an Enterprise Server: its emails are trusted only when said so.
      GITHUB_TRUST_EMAIL: "true",
  };
  gw = await startTestGateway({ env: socialEnv });
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([acme?.close(), entra?.close(), github?.close()]);
});

let n = 0;
/** A new person at an OpenID provider. */
function person(idp: OidcTestProvider, tag: string, emailVerified = true, email = `${tag}${++n}@example.com`): OidcUser {
  const user = { sub: `${tag}-${++n}`, email, email_verified: emailVerified, name: tag };
  idp.users.push(user);
  return user;
}
const prisma = () => gw.db.db.prisma;
const events = (type: string, userId?: string) => prisma().authEvent.findMany({ where: { type, ...(userId && { userId }) }, orderBy: { at: "asc" } });
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

async function start(provider: string, state = "app-state") {
  const r = await gw.request(StartSocialSignInDocument, { input: { provider, redirectUrl: `${APP}/signed-in`, state } });
  expect(r.errors).toBeUndefined();
  return new URL(r.data!.startSocialSignIn.authorizationUrl);
}
/** The provider's redirect to PUBLIC_URL's callback, delivered to the gateway as the browser would (or its form_post). */
async function deliver(callback: URL, on: TestGateway = gw, formPost?: URLSearchParams): Promise<{ status: number; location: URL | null; body: string }> {
  const res = formPost
    ? await fetch(`${on.url}${callback.pathname}`, { method: "POST", redirect: "manual", body: formPost })
    : await fetch(`${on.url}${callback.pathname}${callback.search}`, { redirect: "manual" });
  const location = res.headers.get("location");
  return { status: res.status, location: location ? new URL(location) : null, body: await res.text() };
}
/** Start → the provider's pages → the callback: where the gateway sends the browser. */
async function throughProvider(idp: OidcTestProvider | "github", provider: string, login: string, consent: "approve" | "deny" = "approve") {
  const url = await start(provider);
  const callback = idp === "github" ? (github.signInAs(login), await github.authorize(url)) : await idp.signIn(url, { login, consent });
  return { callback, ...(await deliver(callback)) };
}
async function socialSignIn(idp: OidcTestProvider | "github", provider: string, login: string) {
  const { location } = await throughProvider(idp, provider, login);
  expect(location?.searchParams.get("error")).toBeNull();
  const r = await gw.request(CompleteSocialSignInDocument, { input: { code: location!.searchParams.get("code")! } });
  expect(r.errors).toBeUndefined();
  return r.data!.completeSocialSignIn;
}
async function provenEmailAccount(email: string) {
  const req = await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: email, purpose: "SIGN_IN" } });
  const code = await gw.codeSentTo(email);
  const r = await gw.request(VerifyOtpDocument, { input: { challengeId: req.data!.requestOtp.challengeId, code } });
  return { userId: r.data!.verifyOtp.user!.id, token: r.data!.verifyOtp.tokens!.accessToken };
}
const myIdentities = async (token: string) => (await gw.request(MyIdentitiesDocument, {}, { token })).data!.me!;

describe("identityProviders", () => {
  it("lists the configured providers for the buttons, presets first", async () => {
    const r = await gw.request(IdentityProvidersDocument, {});
    expect(r.data!.identityProviders).toEqual([
      { id: "github", name: "GitHub" },
      { id: "acme", name: "Acme SSO" },
      { id: "entra", name: "entra" },
    ]);
  });
});

describe("startSocialSignIn + the callback + completeSocialSignIn", () => {
  it("runs the code flow with PKCE S256, state and nonce, and signs up with the verified email", async () => {
    const ada = person(acme, "ada");
    const url = await start("acme");
    expect(url.origin).toBe(acme.issuer);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ response_type: "code", client_id: acme.clientId, redirect_uri: callbackOf("acme"), code_challenge_method: "S256", scope: "openid email profile" });
    for (const p of ["state", "nonce", "code_challenge"]) expect(url.searchParams.get(p)).toMatch(/^[\w-]{43,}$/);

    const back = await deliver(await acme.signIn(url, { login: ada.sub }));
    expect(back.status).toBe(303);
    expect(back.location!.origin + back.location!.pathname).toBe(`${APP}/signed-in`);
    expect(back.location!.searchParams.get("state")).toBe("app-state");
    const code = back.location!.searchParams.get("code")!;
    expect(code).toMatch(/^[\w-]{43}$/);
    expect([...back.location!.searchParams.keys()].sort()).toEqual(["code", "state"]); // never tokens in the URL

    const r = (await gw.request(CompleteSocialSignInDocument, { input: { code } })).data!.completeSocialSignIn;
    expect(r).toMatchObject({ status: "AUTHENTICATED", isNewUser: true, user: { email: ada.email, emailVerified: true } });
    expect(claims(r.tokens!.accessToken)).toMatchObject({ amr: ["fed"], aal: "aal1" });
    const identity = await prisma().identity.findUniqueOrThrow({ where: { provider_subject: { provider: "acme", subject: ada.sub } } });
    expect(identity).toMatchObject({ userId: r.user!.id, email: ada.email, emailVerified: true });
    expect((await events("user.signed_up", r.user!.id))[0].detail).toMatchObject({ method: "social", provider: "acme" });

    const again = await socialSignIn(acme, "acme", ada.sub);
    expect(again).toMatchObject({ status: "AUTHENTICATED", isNewUser: false, user: { id: r.user!.id } });
    // The first sign-in is audited as the sign-up, the next ones as login.social.
    expect((await events("login.social", r.user!.id)).map((e) => [e.ok, e.detail])).toEqual([[true, { provider: "acme" }]]);
  });

  it("refuses a replayed or unknown state with a page, and signs nobody in", async () => {
    const ada = person(acme, "replay");
    const { callback, status } = await throughProvider(acme, "acme", ada.sub);
    expect(status).toBe(303);
    const replay = await deliver(callback);
    expect(replay).toMatchObject({ status: 400, location: null });
    expect(replay.body).toMatch(/This sign-in can&#39;t be used/);
    const forged = new URL(callback);
    forged.searchParams.set("state", "not-a-state-we-made");
    expect((await deliver(forged)).status).toBe(400);
    // State from another provider's start is refused at this one's callback.
    const url = await start("entra");
    const wrongPath = new URL(callback);
    wrongPath.search = `?code=x&state=${url.searchParams.get("state")}`;
    expect((await deliver(wrongPath)).status).toBe(400);
  });

  it("takes an exchange code once", async () => {
    const u = person(acme, "code-once");
    const { location } = await throughProvider(acme, "acme", u.sub);
    const code = location!.searchParams.get("code")!;
    expect((await gw.request(CompleteSocialSignInDocument, { input: { code } })).data!.completeSocialSignIn.status).toBe("AUTHENTICATED");
    const replay = await gw.request(CompleteSocialSignInDocument, { input: { code } });
    expect(errorCode(replay)).toBe("INVALID_CODE");
    expect(errorCode(await gw.request(CompleteSocialSignInDocument, { input: { code: "made-up" } }))).toBe("INVALID_CODE");
  });

  it("sends a denied consent back as error=access_denied with the app's state, audited", async () => {
    const u = person(acme, "denies");
    const { status, location } = await throughProvider(acme, "acme", u.sub, "deny");
    expect(status).toBe(303);
    expect(Object.fromEntries(location!.searchParams)).toEqual({ error: "access_denied", state: "app-state" });
    expect(await prisma().identity.count({ where: { subject: u.sub } })).toBe(0);
    const failed = (await events("login.social")).filter((e) => !e.ok).map((e) => e.detail);
    expect(failed).toContainEqual({ provider: "acme", reason: "access_denied" });
  });

  it("refuses a redirectUrl off ALLOWED_ORIGINS, an unknown provider and a long state", async () => {
    const bad = (input: { provider: string; redirectUrl: string; state: string }) => gw.request(StartSocialSignInDocument, { input });
    const field = async (r: ReturnType<typeof bad>) => (await r).errors?.[0]?.extensions?.field;
    expect(await field(bad({ provider: "acme", redirectUrl: "https://evil.example/x", state: "s" }))).toBe("redirectUrl");
    expect(await field(bad({ provider: "nope", redirectUrl: `${APP}/x`, state: "s" }))).toBe("provider");
    expect(await field(bad({ provider: "acme", redirectUrl: `${APP}/x`, state: "s".repeat(257) }))).toBe("state");
  });

  it("with REDIRECT_URLS, starts only for those exact URLs: an open redirect elsewhere on the app's origin is refused", async () => {
    const exact = await startTestGateway({ store: "memory", db: gw.db, env: { ...socialEnv, REDIRECT_URLS: `${APP}/auth/done` } });
    try {
      const start = (redirectUrl: string) => exact.request(StartSocialSignInDocument, { input: { provider: "acme", redirectUrl, state: "s" } });
      expect((await start(`${APP}/auth/done`)).data!.startSocialSignIn.authorizationUrl).toMatch(/^http/);
      expect((await start(`${APP}/go?to=https://evil.example`)).errors![0].extensions!.field).toBe("redirectUrl");
    } finally {
      await exact.close();
    }
  });

  it("requires the app's state on startSocialSignIn and linkIdentity (an exchange code is not bound to the browser otherwise)", async () => {
    const s = (await gw.request(SignUpDocument, { input: { email: `stateless${++n}@example.com`, password: "correct horse battery" } })).data!.signUp;
    for (const [doc, token] of [
      ["mutation { startSocialSignIn(input: { provider: \"acme\", redirectUrl: \"http://app.test/x\" }) { authorizationUrl } }", undefined],
      ["mutation { linkIdentity(input: { provider: \"acme\", redirectUrl: \"http://app.test/x\" }) { authorizationUrl } }", s.tokens!.accessToken],
    ] as const) {
      const r = await gw.request<unknown, unknown>(doc, {}, { token });
      expect(r.errors![0].message).toMatch(/"\w+\.state" of required type "String!" was not provided/);
    }
    const empty = await gw.request(StartSocialSignInDocument, { input: { provider: "acme", redirectUrl: `${APP}/x`, state: "" } });
    expect(empty.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "state" });
    expect(empty.errors![0].message).toMatch(/store it before redirecting and compare it when the browser comes back/);
  });

  it("takes Apple's form_post: the provider's page POSTs code and state to the callback", async () => {
    const una = person(acme, "una");
    const url = await start("acme", "post-state");
    url.searchParams.set("response_mode", "form_post");
    const posted = await acme.signIn(url, { login: una.sub });
    expect([...formPostBody(posted).keys()].sort()).toEqual(["code", "iss", "state"]);
    const back = await deliver(posted, gw, formPostBody(posted));
    expect(back.status).toBe(303);
    expect(back.location!.searchParams.get("state")).toBe("post-state");
    const r = await gw.request(CompleteSocialSignInDocument, { input: { code: back.location!.searchParams.get("code")! } });
    expect(r.data!.completeSocialSignIn).toMatchObject({ status: "AUTHENTICATED", user: { email: una.email } });
    // The form's state is single use like the query's.
    expect((await deliver(posted, gw, formPostBody(posted))).status).toBe(400);
  });

  it("signs nobody in with an exchange code issued before its identity was unlinked", async () => {
    const s = (await gw.request(SignUpDocument, { input: { email: `unlinker${++n}@example.com`, password: "correct horse battery" } })).data!.signUp;
    const token = s.tokens!.accessToken;
    const vic = person(entra, "vic");
    const linked = await link(token, entra, "entra", vic.sub);
    expect((await gw.request(CompleteLinkIdentityDocument, { input: { code: linked.location!.searchParams.get("link_code")! } }, { token })).errors).toBeUndefined();
    // A sign-in with it reaches the callback, then the owner unlinks it before the app trades the code.
    const { location } = await throughProvider(entra, "entra", vic.sub);
    const { identities } = await myIdentities(token);
    expect((await gw.request(UnlinkIdentityDocument, { id: identities![0].id }, { token })).data!.unlinkIdentity).toBe(true);
    const r = await gw.request(CompleteSocialSignInDocument, { input: { code: location!.searchParams.get("code")! } });
    expect(errorCode(r)).toBe("INVALID_CODE");
  });
});

describe("accounts and linking", () => {
  it("joins the account where the provider's verified email is proven", async () => {
    const carol = person(acme, "carol");
    const account = await provenEmailAccount(carol.email);
    const r = await socialSignIn(acme, "acme", carol.sub);
    expect(r).toMatchObject({ isNewUser: false, user: { id: account.userId } });
    expect((await events("identity.linked", account.userId))[0].detail).toEqual({ provider: "acme", via: "verified_email" });
  });

  it("never joins on an unverified email: a new account of its own, the email left on the identity", async () => {
    const dave = person(acme, "dave", false);
    const account = await provenEmailAccount(dave.email);
    const r = await socialSignIn(acme, "acme", dave.sub);
    expect(r).toMatchObject({ isNewUser: true, user: { email: null, emailVerified: false } });
    expect(r.user!.id).not.toBe(account.userId);
    expect((await myIdentities(r.tokens!.accessToken)).identities).toEqual([expect.objectContaining({ provider: "acme", email: dave.email })]);
  });

  it("does not trust a provider's verified email unless told to (Microsoft's nOAuth): a new account", async () => {
    const eve = person(entra, "eve");
    const account = await provenEmailAccount(eve.email);
    const r = await socialSignIn(entra, "entra", eve.sub);
    expect(r.isNewUser).toBe(true);
    expect(r.user!.id).not.toBe(account.userId);
    expect(r.user!.email).toBeNull();
  });

  it("claims an account where the address sits unproven (pre-account hijacking), never joins it as is", async () => {
    const fay = person(acme, "fay");
    const attacker = (await gw.request(SignUpDocument, { input: { email: fay.email, password: "attacker chose this" } })).data!.signUp;
    const r = await socialSignIn(acme, "acme", fay.sub);
    expect(r.user).toMatchObject({ id: attacker.user!.id, email: fay.email, emailVerified: true });
    // The creator's password is gone, and so is their session.
    expect(errorCode(await gw.request(LoginDocument, { input: { email: fay.email, password: "attacker chose this" } }))).toBe("UNAUTHENTICATED");
    expect((await gw.request(MyIdentitiesDocument, {}, { token: attacker.tokens!.accessToken })).data!.me).toBeNull();
    expect(await events("account.claimed", attacker.user!.id)).toHaveLength(1);
  });

  it("signs in with GitHub: the verified primary email joins, an unverified one does not", async () => {
    const proven = await provenEmailAccount("octocat@example.com");
    const cat = await socialSignIn("github", "github", "octocat");
    expect(cat).toMatchObject({ isNewUser: false, user: { id: proven.userId } });
    expect(await prisma().identity.findFirst({ where: { provider: "github", subject: "583231" } })).toMatchObject({ userId: proven.userId, emailVerified: true });
    const token = github.requests.find((r) => r.path === "/login/oauth/access_token")!;
    expect(token.params.code_verifier).toMatch(/^[\w-]{43}$/);

    const unverified = await socialSignIn("github", "github", "unverified-cat");
    expect(unverified).toMatchObject({ isNewUser: true, user: { email: null } });
    expect(await prisma().identity.findFirst({ where: { provider: "github", subject: "1000002" } })).toMatchObject({ email: "unverified@example.com", emailVerified: false });
  });
});

describe("MFA after a social sign-in", () => {
  it("answers MFA_REQUIRED when TOTP is on", async () => {
    const gus = person(acme, "gus");
    const first = await socialSignIn(acme, "acme", gus.sub);
    const token = first.tokens!.accessToken;
    const app = URI.parse((await gw.request(EnrollTotpDocument, {}, { token })).data!.enrollTotp.otpauthUrl) as TOTP;
    expect((await gw.request(ConfirmTotpDocument, { code: app.generate() }, { token })).errors).toBeUndefined();
    const again = await socialSignIn(acme, "acme", gus.sub);
    expect(again).toMatchObject({ status: "MFA_REQUIRED", tokens: null, user: null });
    expect(again.mfaMethods).toContain("TOTP");
  });

  it("never takes an email code as the second factor when the provider vouched for the account's mailbox", async () => {
    // Whoever holds the Google account reads its Gmail: a code sent there proves nothing more.
    const gil = person(acme, "gil");
    const first = await socialSignIn(acme, "acme", gil.sub);
    expect(first.user).toMatchObject({ email: gil.email, emailVerified: true });
    const token = first.tokens!.accessToken;
    const app = URI.parse((await gw.request(EnrollTotpDocument, {}, { token })).data!.enrollTotp.otpauthUrl) as TOTP;
    expect((await gw.request(ConfirmTotpDocument, { code: app.generate() }, { token })).errors).toBeUndefined();
    for (const again of [
      await socialSignIn(acme, "acme", gil.sub),
      (await gw.request(SignInWithIdTokenDocument, { input: { provider: "acme", idToken: await acme.mintIdToken({ sub: gil.sub, nonce: `gil-${n}` }), nonce: `gil-${n}` } })).data!
        .signInWithIdToken,
    ]) {
      expect(again).toMatchObject({ status: "MFA_REQUIRED", mfaMethods: ["TOTP", "RECOVERY_CODE"] });
      const mfa = await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", purpose: "MFA", mfaToken: again.mfaToken } });
      expect(mfa.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    }
  });
});

describe("signInWithIdToken", () => {
  const signIn = (idToken: string, nonce: string, provider = "acme") => gw.request(SignInWithIdTokenDocument, { input: { provider, idToken, nonce } });

  it("signs in with a valid id_token, the same account as the browser flow", async () => {
    const hal = person(acme, "hal");
    const browser = await socialSignIn(acme, "acme", hal.sub);
    const r = await signIn(await acme.mintIdToken({ sub: hal.sub, nonce: "n-1" }), "n-1");
    expect(r.data!.signInWithIdToken).toMatchObject({ status: "AUTHENTICATED", isNewUser: false, user: { id: browser.user!.id } });
  });

  it("takes Apple's SHA-256 hex of the nonce, and each nonce once", async () => {
    const ivy = person(acme, "ivy");
    const nonce = `raw-${n}`;
    const token = await acme.mintIdToken({ sub: ivy.sub, nonce: createHash("sha256").update(nonce).digest("hex") });
    expect((await signIn(token, nonce)).data!.signInWithIdToken.status).toBe("AUTHENTICATED");
    const replay = await signIn(token, nonce);
    expect(errorCode(replay)).toBe("UNAUTHENTICATED");
    expect(replay.errors![0].message).toMatch(/nonce was used already/);
    // The token's own nonce claim is the other spelling of the same nonce: spent as well.
    const hashed = await signIn(token, createHash("sha256").update(nonce).digest("hex"));
    expect(errorCode(hashed)).toBe("UNAUTHENTICATED");
    expect(hashed.errors![0].message).toMatch(/nonce was used already/);
  });

  it("spends the nonce however it is spelled: the hash first, then the raw value, is still one use", async () => {
    const joy = person(acme, "joy");
    const nonce = `raw-${n}`;
    const hex = createHash("sha256").update(nonce).digest("hex");
    const token = await acme.mintIdToken({ sub: joy.sub, nonce: hex });
    expect((await signIn(token, hex)).data!.signInWithIdToken.status).toBe("AUTHENTICATED");
    expect(errorCode(await signIn(token, nonce))).toBe("UNAUTHENTICATED");
  });

  it.each([
    ["a wrong nonce", { nonce: "other" }, /nonce/],
    ["a wrong audience", { aud: "someone-else" }, /aud/],
    ["an expired token", { expired: true }, /expired/],
    ["a foreign signing key", { signedWith: "foreign-key" as const }, /signature/],
  ])("refuses %s", async (_case, mint, message) => {
    const u = person(acme, "bad-token");
    const r = await signIn(await acme.mintIdToken({ sub: u.sub, nonce: "n", ...mint }), "n");
    expect(errorCode(r)).toBe("UNAUTHENTICATED");
    expect(r.errors![0].message).toMatch(message);
    expect(await prisma().identity.count({ where: { subject: u.sub } })).toBe(0);
  });

  it("is not offered for GitHub (no id_token)", async () => {
    expect((await signIn("x.y.z", "n", "github")).errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "provider" });
  });
});

/** linkIdentity → the provider → the callback: where the gateway sends the browser (`?link_code=&state=`). */
async function link(token: string, idp: OidcTestProvider, provider: string, login: string, on: TestGateway = gw) {
  const r = await on.request(LinkIdentityDocument, { input: { provider, redirectUrl: `${APP}/account`, state: "link-state" } }, { token });
  expect(r.errors).toBeUndefined();
  return deliver(await idp.signIn(r.data!.linkIdentity.authorizationUrl, { login }), on);
}
const signUp = async (tag: string, on: TestGateway = gw) => (await on.request(SignUpDocument, { input: { email: `${tag}${++n}@example.com`, password: "correct horse battery" } })).data!.signUp;
const linkedTo = (userId: string) => prisma().identity.findMany({ where: { userId } });

describe("linkIdentity + completeLinkIdentity + unlinkIdentity", () => {
  it("links an identity to the signed-in account, lists it, and unlinks it while another way in remains", async () => {
    const s = await signUp("linker");
    const token = s.tokens!.accessToken;
    const jay = person(entra, "jay");
    const back = await link(token, entra, "entra", jay.sub);
    expect(back.location!.origin + back.location!.pathname).toBe(`${APP}/account`);
    expect([...back.location!.searchParams.keys()].sort()).toEqual(["link_code", "state"]);
    expect(back.location!.searchParams.get("state")).toBe("link-state");
    // The callback itself links nothing: the code does, for the session that asked.
    expect(await linkedTo(s.user!.id)).toEqual([]);
    const code = back.location!.searchParams.get("link_code")!;
    expect(code).toMatch(/^[\w-]{43}$/);
    const done = await gw.request(CompleteLinkIdentityDocument, { input: { code } }, { token });
    expect(done.data!.completeLinkIdentity).toMatchObject({ provider: "entra", email: jay.email });
    expect(errorCode(await gw.request(CompleteLinkIdentityDocument, { input: { code } }, { token }))).toBe("INVALID_CODE");
    const { identities } = await myIdentities(token);
    expect(identities).toEqual([expect.objectContaining({ id: done.data!.completeLinkIdentity.id, provider: "entra", email: jay.email })]);
    expect((await events("identity.linked", s.user!.id)).map((e) => [e.ok, e.detail])).toEqual([[true, { provider: "entra", identityId: identities![0].id }]]);
    // The linked identity now signs in to this account.
    expect((await socialSignIn(entra, "entra", jay.sub)).user!.id).toBe(s.user!.id);

    expect((await gw.request(UnlinkIdentityDocument, { id: identities![0].id }, { token })).data!.unlinkIdentity).toBe(true);
    expect((await myIdentities(token)).identities).toEqual([]);
    expect(await events("identity.unlinked", s.user!.id)).toHaveLength(1);
  });

  it("refuses an identity linked to another account, at the callback or (linked meanwhile) at completeLinkIdentity", async () => {
    const kim = person(acme, "kim");
    await socialSignIn(acme, "acme", kim.sub);
    const other = await signUp("other");
    const back = await link(other.tokens!.accessToken, acme, "acme", kim.sub);
    expect(Object.fromEntries(back.location!.searchParams)).toEqual({ error: "identity_in_use", state: "link-state" });

    const lee = person(entra, "lee");
    const pending = await link(other.tokens!.accessToken, entra, "entra", lee.sub);
    await socialSignIn(entra, "entra", lee.sub); // an account of its own, before the link code is traded
    const r = await gw.request(CompleteLinkIdentityDocument, { input: { code: pending.location!.searchParams.get("link_code")! } }, { token: other.tokens!.accessToken });
    expect(r.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "code" });
    expect(r.errors![0].message).toMatch(/already linked to another account here/);
    expect(await linkedTo(other.user!.id)).toEqual([]);
  });

  it("links nothing when a victim's browser follows an attacker's link URL (linking CSRF)", async () => {
    // The victim's provider account is linked nowhere yet (e.g. unlinked since); the provider
    // may ask nothing of a person who consented before, so one click on the URL reaches the callback.
    const vera = person(acme, "vera");
    const victim = await signUp("victim");
    const attacker = await signUp("attacker");
    const started = await gw.request(LinkIdentityDocument, { input: { provider: "acme", redirectUrl: `${APP}/account`, state: "attacker-state" } }, { token: attacker.tokens!.accessToken });
    // The victim opens the attacker's authorization URL: the callback sends the victim's browser on with a link code.
    const back = await deliver(await acme.signIn(started.data!.linkIdentity.authorizationUrl, { login: vera.sub }));
    const code = back.location!.searchParams.get("link_code")!;
    expect(code).toBeTruthy();
    expect(await linkedTo(attacker.user!.id)).toEqual([]);
    // Any other session (the victim's app, signed in) is refused, and that spends the code.
    const wrong = await gw.request(CompleteLinkIdentityDocument, { input: { code } }, { token: victim.tokens!.accessToken });
    expect(errorCode(wrong)).toBe("INVALID_CODE");
    expect(errorCode(await gw.request(CompleteLinkIdentityDocument, { input: { code } }, { token: attacker.tokens!.accessToken }))).toBe("INVALID_CODE");
    expect(await linkedTo(attacker.user!.id)).toEqual([]);
    expect(await prisma().identity.count({ where: { provider: "acme", subject: vera.sub } })).toBe(0);
    expect((await events("identity.linked", attacker.user!.id)).map((e) => [e.ok, e.detail])).toEqual([[false, { provider: "acme", reason: "other_session" }]]);
  });

  it("a link code is for the session that called linkIdentity only: not another session of the same account", async () => {
    const s = await signUp("two-sessions");
    const second = (await gw.request(LoginDocument, { input: { email: s.user!.email!, password: "correct horse battery" } })).data!.login;
    const mo = person(entra, "mo");
    const back = await link(s.tokens!.accessToken, entra, "entra", mo.sub);
    const r = await gw.request(CompleteLinkIdentityDocument, { input: { code: back.location!.searchParams.get("link_code")! } }, { token: second.tokens!.accessToken });
    expect(errorCode(r)).toBe("INVALID_CODE");
    expect(await linkedTo(s.user!.id)).toEqual([]);
  });

  it("sends a link callback whose session ended back with error=session_ended", async () => {
    const s = await signUp("ended");
    const token = s.tokens!.accessToken;
    const r = await gw.request(LinkIdentityDocument, { input: { provider: "entra", redirectUrl: `${APP}/account`, state: "link-state" } }, { token });
    expect((await gw.request(LogoutDocument, undefined, { token })).data!.logout).toBe(true);
    const ned = person(entra, "ned");
    const back = await deliver(await entra.signIn(r.data!.linkIdentity.authorizationUrl, { login: ned.sub }));
    expect(Object.fromEntries(back.location!.searchParams)).toEqual({ error: "session_ended", state: "link-state" });
    expect(await linkedTo(s.user!.id)).toEqual([]);
  });

  it("completeLinkIdentity links only while the session that asked is live (a logout after the callback wins)", async () => {
    const s = await signUp("late-logout");
    const token = s.tokens!.accessToken;
    const oli = person(entra, "oli");
    const back = await link(token, entra, "entra", oli.sub);
    // Ended in Postgres, its Redis marker not written yet (a logout in flight): the token still passes.
    await prisma().session.update({ where: { id: claims(token).sid }, data: { revokedAt: new Date(), revokedReason: "logout" } });
    const r = await gw.request(CompleteLinkIdentityDocument, { input: { code: back.location!.searchParams.get("link_code")! } }, { token });
    expect(errorCode(r)).toBe("UNAUTHENTICATED");
    expect(await linkedTo(s.user!.id)).toEqual([]);
  });

  it("never unlinks the last way in", async () => {
    const lou = person(entra, "lou");
    const r = await socialSignIn(entra, "entra", lou.sub); // an account with no email: the identity is all it has
    const token = r.tokens!.accessToken;
    const { identities } = await myIdentities(token);
    const refused = await gw.request(UnlinkIdentityDocument, { id: identities![0].id }, { token });
    expect(refused.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "id" });
    expect((await myIdentities(token)).identities).toHaveLength(1);
  });

  it("does not count an identity of a provider no longer configured as a way in: it signs nobody in", async () => {
    const kim = person(entra, "kim");
    const r = await socialSignIn(entra, "entra", kim.sub);
    const token = r.tokens!.accessToken;
    // An identity from a provider since taken out of the settings.
    await prisma().identity.create({ data: { userId: r.user!.id, provider: "retired", subject: `retired-${kim.sub}` } });
    const identities = (await myIdentities(token)).identities!;
    const refused = await gw.request(UnlinkIdentityDocument, { id: identities.find((i) => i.provider === "entra")!.id }, { token });
    expect(refused.errors![0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "id" });
    // The dead one may go: it was no way in.
    expect((await gw.request(UnlinkIdentityDocument, { id: identities.find((i) => i.provider === "retired")!.id }, { token })).data!.unlinkIdentity).toBe(true);
    expect((await myIdentities(token)).identities!.map((i) => i.provider)).toEqual(["entra"]);
  });

  it("needs a signed-in caller", async () => {
    expect(errorCode(await gw.request(LinkIdentityDocument, { input: { provider: "acme", redirectUrl: `${APP}/a`, state: "s" } }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await gw.request(CompleteLinkIdentityDocument, { input: { code: "x" } }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await gw.request(UnlinkIdentityDocument, { id: "00000000-0000-0000-0000-000000000000" }))).toBe("UNAUTHENTICATED");
  });
});

describe("User.identities", () => {
  it("is the owner's only: null for anyone else, through _entities with or without another user's token", async () => {
    const pia = person(entra, "pia");
    const owner = await socialSignIn(entra, "entra", pia.sub);
    const stranger = await signUp("stranger");
    const entities = (token?: string) =>
      gw.request<{ _entities: Array<{ identities: unknown }> }, { r: unknown[] }>(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { identities { provider } } } }",
        { r: [{ __typename: "User", id: owner.user!.id }] },
        { token },
      );
    expect((await entities()).data!._entities).toEqual([{ identities: null }]);
    expect((await entities(stranger.tokens!.accessToken)).data!._entities).toEqual([{ identities: null }]);
    expect((await entities(owner.tokens!.accessToken)).data!._entities).toEqual([{ identities: [{ provider: "entra" }] }]);
  });
});

describe("codes that expire (the in-process store on a clock the test moves)", () => {
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset) };
  let mem: TestGateway;
  beforeAll(async () => {
    mem = await startTestGateway({ store: "memory", clock, db: gw.db, env: socialEnv });
  });
  afterAll(() => mem?.close());
  afterEach(() => void (offset = 0));

  it("an exchange code signs nobody in after its 60 s", async () => {
    const quinn = person(acme, "quinn");
    const url = new URL((await mem.request(StartSocialSignInDocument, { input: { provider: "acme", redirectUrl: `${APP}/signed-in`, state: "s" } })).data!.startSocialSignIn.authorizationUrl);
    const back = await deliver(await acme.signIn(url, { login: quinn.sub }), mem);
    offset = 61_000;
    const r = await mem.request(CompleteSocialSignInDocument, { input: { code: back.location!.searchParams.get("code")! } });
    expect(errorCode(r)).toBe("INVALID_CODE");
  });

  it("a link code links nothing after its 60 s", async () => {
    const s = await signUp("slow-linker", mem);
    const rae = person(entra, "rae");
    const back = await link(s.tokens!.accessToken, entra, "entra", rae.sub, mem);
    offset = 61_000;
    const r = await mem.request(CompleteLinkIdentityDocument, { input: { code: back.location!.searchParams.get("link_code")! } }, { token: s.tokens!.accessToken });
    expect(errorCode(r)).toBe("INVALID_CODE");
    expect(await linkedTo(s.user!.id)).toEqual([]);
  });
});

describe("a provider that is down or slow", () => {
  let down: TestGateway;
  let hang: net.Server;
  const held: net.Socket[] = [];
  // GitHub's API, each path's answer that late (null: never).
  let slowApi: http.Server;
  let apiDelayMs: Record<string, number> | null = null;
  const apiAsked: string[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers.
    hang = net.createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => hang.listen(0, "127.0.0.1", resolve));
    slowApi = http.createServer((req, res) => {
      apiAsked.push(req.url!);
      if (apiDelayMs === null) return;
      const delay = apiDelayMs[req.url!] ?? 0;
      setTimeout(() => {
        fetch(new URL(req.url!, github.apiUrl), { headers: { authorization: req.headers.authorization!, "user-agent": "test" } })
          .then(async (answer) => void res.writeHead(answer.status, { "content-type": answer.headers.get("content-type")! }).end(await answer.text()))
          .catch(() => res.destroy()); // GitHub closed after the test
      }, delay);
    });
    await new Promise<void>((resolve) => slowApi.listen(0, "127.0.0.1", resolve));
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    down = await startTestGateway({
      env: {
        PUBLIC_URL,
        ALLOWED_ORIGINS: APP,
        SOCIAL_PROVIDER_TIMEOUT_MS: "300",
        OIDC_PROVIDERS: "gone,slow",
        OIDC_GONE_ISSUER: `http://127.0.0.1:${closedPort}`,
        OIDC_GONE_CLIENT_ID: "a",
        OIDC_GONE_CLIENT_SECRET: "b",
        OIDC_SLOW_ISSUER: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`,
        OIDC_SLOW_CLIENT_ID: "a",
        OIDC_SLOW_CLIENT_SECRET: "b",
        // GitHub's web side answers; its API hangs.
        GITHUB_CLIENT_ID: github.clientId,
        GITHUB_CLIENT_SECRET: github.clientSecret,
        GITHUB_URL: github.baseUrl,
        GITHUB_API_URL: `http://127.0.0.1:${(slowApi.address() as AddressInfo).port}`,
      },
    });
  });
  afterAll(async () => {
    await down?.close();
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => hang.close(() => resolve()));
    slowApi.closeAllConnections();
    await new Promise<void>((resolve) => slowApi.close(() => resolve()));
  });
  afterEach(() => void (apiDelayMs = null));

  it("starts anyway (discovery is lazy) and answers UNAVAILABLE at startSocialSignIn", async () => {
    expect((await fetch(`${down.url}/readyz`)).status).toBe(200);
    for (const provider of ["gone", "slow"]) {
      const started = Date.now();
      const r = await down.request(StartSocialSignInDocument, { input: { provider, redirectUrl: `${APP}/x`, state: "s" } });
      expect(r.errors![0].extensions).toMatchObject({ code: "UNAVAILABLE", retryAfter: 5 });
      expect(Date.now() - started).toBeLessThan(5000);
    }
    expect(down.logs.some((l) => l.msg === "social provider unavailable" && l.provider === "slow")).toBe(true);
  });

  it("sends the browser back with error=temporarily_unavailable when the provider's API times out", async () => {
    const r = await down.request(StartSocialSignInDocument, { input: { provider: "github", redirectUrl: `${APP}/x`, state: "s" } });
    const callback = await github.authorize(r.data!.startSocialSignIn.authorizationUrl);
    const res = await fetch(`${down.url}${callback.pathname}${callback.search}`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(Object.fromEntries(new URL(res.headers.get("location")!).searchParams)).toEqual({ error: "temporarily_unavailable", state: "s" });
    const logged = JSON.stringify(down.logs.filter((l) => l.msg === "social sign-in failed at the provider"));
    expect(logged).toMatch(/temporarily_unavailable/);
    expect(logged).not.toContain(callback.searchParams.get("code")!);
  });

  it("gives the whole callback one SOCIAL_PROVIDER_TIMEOUT_MS, not one per request (/user and /user/emails each in time, not both)", async () => {
    apiDelayMs = { "/user": 150, "/user/emails": 250 }; // each under the 300 ms timeout; together over it
    const r = await down.request(StartSocialSignInDocument, { input: { provider: "github", redirectUrl: `${APP}/x`, state: "s" } });
    const callback = await github.authorize(r.data!.startSocialSignIn.authorizationUrl);
    const res = await fetch(`${down.url}${callback.pathname}${callback.search}`, { redirect: "manual" });
    // With a timeout per request, both answers would have come in time and signed octocat in.
    expect(Object.fromEntries(new URL(res.headers.get("location")!).searchParams)).toEqual({ error: "temporarily_unavailable", state: "s" });
    expect(apiAsked.slice(-2)).toEqual(["/user", "/user/emails"]); // /user answered in time, then the deadline passed
  });
});
