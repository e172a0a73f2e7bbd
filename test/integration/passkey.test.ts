import { URI, type TOTP } from "otpauth";
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import {
  AddPasskeyDocument,
  ConfirmTotpDocument,
  EnrollTotpDocument,
  LoginDocument,
  MyPasskeysDocument,
  PasskeyAuthenticationOptionsDocument,
  PasskeyRegistrationOptionsDocument,
  RemovePasskeyDocument,
  RenamePasskeyDocument,
  RequestOtpDocument,
  SignUpDocument,
  UnlinkIdentityDocument,
  VerifyOtpDocument,
  VerifyPasskeyDocument,
  VerifyTotpDocument,
} from "../__generated__/graphql";
import { errorCode, startTestGateway, type GqlResult, type TestGateway } from "../helpers/gateway";
import { waitFor } from "../helpers/wait";
import { SoftAuthenticator, type CreateOptions, type GetOptions } from "../helpers/soft-authenticator";

/*
 * Passkeys end to end over real Postgres and Redis, with a software authenticator that
 * answers as a browser's WebAuthn client would (test/helpers/soft-authenticator.ts).
 */

const ORIGIN = "http://localhost:4000";

/**
 * The gateway's clock, an hour behind Postgres' (which stamps sessions), so every session is
 * a recent sign-in; moved a TOTP step at a time, or hours on to make sign-ins "not recent".
 */
let now = Math.floor(Date.now() / 30_000) * 30_000 - 3_600_000;
const clock = { now: () => new Date(now) };
const nextStep = () => (now += 30_000);

/** Runs just before the passkey table is written to: a test stages a logout landing between the checks and the write. */
let beforePasskeyWrite: (() => Promise<void>) | null = null;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({
    clock,
    override: ({ passkeys }) => ({
      passkeys: new Proxy(passkeys, {
        get(target, prop, receiver) {
          const real = Reflect.get(target, prop, receiver);
          if (prop !== "remove" && prop !== "rename") return real;
          return async (...args: unknown[]) => {
            await beforePasskeyWrite?.();
            return real.apply(target, args);
          };
        },
      }),
    }),
    // Behind one proxy, so each account signs up from an address of its own (sign-ups are limited per IP).
    env: {
      PUBLIC_URL: ORIGIN,
      APP_NAME: "Acme",
      TRUST_PROXY: "1",
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      OTP_MAX_REQUESTS_PER_IP_PER_HOUR: "10000",
      // An OpenID provider configured (never asked: discovery is lazy), so identities of it count as ways in.
      OIDC_PROVIDERS: "acme",
      OIDC_ACME_ISSUER: "http://127.0.0.1:9/acme",
      OIDC_ACME_CLIENT_ID: "passkey-suite",
      OIDC_ACME_CLIENT_SECRET: "unused",
    },
  });
});
afterAll(() => gw.close());

/** Each test from an address of its own: the per-IP limits are tested once, on purpose. */
let ip = "";
let ips = 0;
beforeEach(() => {
  ips++;
  ip = `198.51.${Math.floor(ips / 250)}.${ips % 250}`;
});
const request: TestGateway["request"] = (doc, variables, opts) => gw.request(doc, variables, { ...opts, headers: { "x-forwarded-for": ip, ...opts?.headers } });

const PASSWORD = "correct horse battery";
let n = 0;
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
const fieldOf = (r: GqlResult<unknown>) => r.errors?.[0]?.extensions?.field;

/** An account with a password and a proven email (proven with a code from the outbox). */
async function provenAccount(tag = "pk") {
  const email = `${tag}${++n}@example.com`;
  const signUp = (await request(SignUpDocument, { input: { email, password: PASSWORD } }, { headers: { "x-forwarded-for": `203.0.${Math.floor(n / 250)}.${n % 250}` } })).data!.signUp;
  const token = signUp.tokens!.accessToken;
  const r = await request(RequestOtpDocument, { input: { channel: "EMAIL", destination: email, purpose: "VERIFY_CONTACT" } }, { token });
  const v = await request(VerifyOtpDocument, { input: { challengeId: r.data!.requestOtp.challengeId, code: await gw.codeSentTo(email) } }, { token });
  expect(v.errors).toBeUndefined();
  return { email, token, userId: signUp.user!.id };
}

async function registrationOptions(token: string) {
  const r = await request(PasskeyRegistrationOptionsDocument, {}, { token });
  expect(r.errors).toBeUndefined();
  const { challengeId, optionsJson } = r.data!.passkeyRegistrationOptions;
  return { challengeId, options: JSON.parse(optionsJson) as PublicKeyCredentialCreationOptionsJSON };
}

/** passkeyRegistrationOptions → the authenticator → addPasskey, as a page would. */
async function addPasskey(token: string, auth: SoftAuthenticator, client: Partial<CreateOptions> = {}, name?: string) {
  const { challengeId, options } = await registrationOptions(token);
  const response = auth.createCredential(options, { origin: ORIGIN, ...client });
  return request(AddPasskeyDocument, { input: { challengeId, responseJson: JSON.stringify(response), name } }, { token });
}

async function accountWithPasskey(client: Partial<CreateOptions> = {}) {
  const account = await provenAccount();
  const auth = new SoftAuthenticator();
  const added = await addPasskey(account.token, auth, client);
  expect(added.errors).toBeUndefined();
  return { ...account, auth, passkey: added.data!.addPasskey };
}

async function authenticationOptions(input: { mfaToken?: string; email?: string } | null, token?: string) {
  const r = await request(PasskeyAuthenticationOptionsDocument, { input }, { token });
  expect(r.errors).toBeUndefined();
  const { challengeId, optionsJson } = r.data!.passkeyAuthenticationOptions;
  return { challengeId, options: JSON.parse(optionsJson) as PublicKeyCredentialRequestOptionsJSON };
}

/** passkeyAuthenticationOptions → the authenticator → verifyPasskey. */
async function usePasskey(auth: SoftAuthenticator, opts: { mfaToken?: string; token?: string; client?: Partial<GetOptions> } = {}) {
  const { challengeId, options } = await authenticationOptions(opts.mfaToken ? { mfaToken: opts.mfaToken } : null, opts.token);
  const response = auth.getAssertion(options, { origin: ORIGIN, ...opts.client });
  return request(VerifyPasskeyDocument, { input: { challengeId, responseJson: JSON.stringify(response), mfaToken: opts.mfaToken } }, { token: opts.token });
}

/** Turns TOTP on for the caller (the session stays aal1); returns the app. */
async function turnOnTotp(token: string): Promise<TOTP> {
  const app = URI.parse((await request(EnrollTotpDocument, {}, { token })).data!.enrollTotp.otpauthUrl) as TOTP;
  expect((await request(ConfirmTotpDocument, { code: app.generate({ timestamp: now }) }, { token })).errors).toBeUndefined();
  nextStep();
  return app;
}

/** The notice with this subject, once the delivery queue handed it to the outbox. */
const noticeTo = (to: string, subject: string) => waitFor(() => gw.outbox!.list().find((m) => m.to === to && m.subject === subject), `"${subject}" to ${to}`);

const events = (userId: string, type: string) => gw.db.db.prisma.authEvent.findMany({ where: { userId, type }, orderBy: { at: "asc" } });
const storedPasskey = (id: string) => gw.db.db.prisma.passkey.findUniqueOrThrow({ where: { id } });

/** Runs `f` with the gateway's clock two hours on: every session is then an old sign-in. */
async function later<T>(f: () => Promise<T>): Promise<T> {
  now += 2 * 3_600_000;
  try {
    return await f();
  } finally {
    now -= 2 * 3_600_000;
  }
}

describe("passkeyRegistrationOptions + addPasskey", () => {
  it("asks for a discoverable, user-verified ES256/RS256 credential bound to the rpId, under a random user handle", async () => {
    const u = await provenAccount();
    const { options } = await registrationOptions(u.token);
    expect(options.rp).toEqual({ id: "localhost", name: "Acme" });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", requireResidentKey: true, userVerification: "required" });
    expect(options.attestation).toBe("none");
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual([-7, -257]);
    expect(options.user.name).toBe(u.email);
    expect(options.timeout).toBe(300_000);
    const handle = Buffer.from(options.user.id, "base64url");
    expect(handle).toHaveLength(64);
    expect(handle.toString()).not.toContain(u.userId);
    // One handle per account: the next ceremony uses the same one.
    expect((await registrationOptions(u.token)).options.user.id).toBe(options.user.id);
  });

  it("stores the passkey (named after its provider, else 'Passkey'), audits it and emails a notice", async () => {
    const u = await provenAccount();
    const auth = new SoftAuthenticator();
    const r = await addPasskey(u.token, auth);
    expect(r.errors).toBeUndefined();
    expect(r.data!.addPasskey).toMatchObject({ name: "Passkey", lastUsedAt: null, backedUp: false });
    const row = await storedPasskey(r.data!.addPasskey.id);
    expect(row).toMatchObject({ userId: u.userId, credentialId: auth.credentials()[0].id, aaguid: auth.aaguid, counter: 0n, transports: ["internal"], deviceType: "singleDevice", backupEligible: false, backupState: false });
    expect(await events(u.userId, "passkey.added")).toMatchObject([{ ok: true, detail: { passkeyId: row.id } }]);
    const notice = await noticeTo(u.email, "A passkey was added to your Acme account");
    expect(notice.text).toContain('"Passkey"');
  });

  it("takes the name given (trimmed), and refuses an empty or too long one before spending the challenge", async () => {
    const u = await provenAccount();
    const named = await addPasskey(u.token, new SoftAuthenticator(), {}, "  Work laptop ");
    expect(named.data!.addPasskey.name).toBe("Work laptop");
    for (const name of ["   ", "x".repeat(65)]) {
      const bad = await addPasskey(u.token, new SoftAuthenticator(), {}, name);
      expect(errorCode(bad)).toBe("BAD_USER_INPUT");
      expect(fieldOf(bad)).toBe("name");
    }
  });

  it("lists the account's passkeys in excludeCredentials", async () => {
    const u = await accountWithPasskey();
    const { options } = await registrationOptions(u.token);
    expect(options.excludeCredentials).toEqual([{ id: u.auth.credentials()[0].id, type: "public-key", transports: ["internal"] }]);
  });

  it("needs a signed-in user", async () => {
    expect(errorCode(await request(PasskeyRegistrationOptionsDocument, {}))).toBe("UNAUTHENTICATED");
  });

  it("needs a recent sign-in", async () => {
    const u = await provenAccount();
    const r = await later(() => request(PasskeyRegistrationOptionsDocument, {}, { token: u.token }));
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toMatch(/Sign in again/);
  });

  it("with TOTP on, needs an aal2 session (step-up first)", async () => {
    const u = await provenAccount();
    const app = await turnOnTotp(u.token);
    expect(errorCode(await request(PasskeyRegistrationOptionsDocument, {}, { token: u.token }))).toBe("FORBIDDEN");
    const stepped = await request(VerifyTotpDocument, { input: { code: app.generate({ timestamp: now }) } }, { token: u.token });
    nextStep();
    const r = await addPasskey(stepped.data!.verifyTotp.tokens!.accessToken, new SoftAuthenticator());
    expect(r.errors).toBeUndefined();
  });

  it("needs a proven email or phone (an unproven account can be claimed by the address's owner)", async () => {
    const token = (await request(SignUpDocument, { input: { email: `unproven${++n}@example.com`, password: PASSWORD } }, { headers: { "x-forwarded-for": "203.0.113.250" } })).data!.signUp
      .tokens!.accessToken;
    const r = await request(PasskeyRegistrationOptionsDocument, {}, { token });
    expect(errorCode(r)).toBe("FORBIDDEN");
    expect(r.errors![0].message).toMatch(/Prove your email address or phone number/);
  });

  it.each([
    ["another origin", { origin: "https://evil.example" }, /origin/],
    ["another rpId", { rpId: "evil.example" }, /rpId/],
    ["no user verification", { userVerified: false }, /user verification/],
  ])("refuses an answer from %s with BAD_USER_INPUT on responseJson, and stores nothing", async (_name, client, message) => {
    const u = await provenAccount();
    const r = await addPasskey(u.token, new SoftAuthenticator(), client);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(fieldOf(r)).toBe("responseJson");
    expect(r.errors![0].message).toMatch(message);
    expect(await gw.db.db.prisma.passkey.count({ where: { userId: u.userId } })).toBe(0);
    expect(await events(u.userId, "passkey.added")).toMatchObject([{ ok: false }]);
  });

  it("a challenge works once, and only for the session that asked for it", async () => {
    const u = await provenAccount();
    const other = await provenAccount();
    const { challengeId, options } = await registrationOptions(u.token);
    const responseJson = JSON.stringify(new SoftAuthenticator().createCredential(options, { origin: ORIGIN }));
    expect(errorCode(await request(AddPasskeyDocument, { input: { challengeId, responseJson } }, { token: other.token }))).toBe("UNAUTHENTICATED");
    // The other account's attempt spent it.
    expect(errorCode(await request(AddPasskeyDocument, { input: { challengeId, responseJson } }, { token: u.token }))).toBe("UNAUTHENTICATED");
  });

  it("refuses a malformed responseJson with BAD_USER_INPUT on responseJson", async () => {
    const u = await provenAccount();
    const { challengeId } = await registrationOptions(u.token);
    for (const responseJson of ["not json", "{}", JSON.stringify({ id: "x", type: "public-key", response: { clientDataJSON: "a", signature: "b" } })]) {
      const r = await request(AddPasskeyDocument, { input: { challengeId, responseJson } }, { token: u.token });
      expect(errorCode(r)).toBe("BAD_USER_INPUT");
      expect(fieldOf(r)).toBe("responseJson");
    }
  });
});

describe("verifyPasskey: sign-in", () => {
  it("username-less: options without allowCredentials; the passkey signs in at aal2 with amr [hwk, mfa]", async () => {
    const u = await accountWithPasskey();
    const { options } = await authenticationOptions(null);
    expect(options).toMatchObject({ rpId: "localhost", userVerification: "required", timeout: 300_000 });
    expect(options.allowCredentials ?? []).toEqual([]);
    const r = await usePasskey(u.auth);
    expect(r.errors).toBeUndefined();
    const payload = r.data!.verifyPasskey;
    expect(payload).toMatchObject({ status: "AUTHENTICATED", mfaMethods: [], isNewUser: false, user: { id: u.userId, email: u.email } });
    expect(claims(payload.tokens!.accessToken)).toMatchObject({ sub: u.userId, aal: "aal2", amr: ["hwk", "mfa"] });
    const row = await storedPasskey(u.passkey.id);
    expect(row.counter).toBe(1n);
    expect(row.lastUsedAt).not.toBeNull();
    expect(await events(u.userId, "login.passkey")).toMatchObject([{ ok: true, detail: { purpose: "sign_in", passkeyId: u.passkey.id } }]);
  });

  it("a synced (backed-up) passkey gives amr [swk, mfa] and shows backedUp", async () => {
    const u = await accountWithPasskey({ backupEligible: true, backupState: true });
    expect(u.passkey.backedUp).toBe(true);
    const r = await usePasskey(u.auth, { client: { signCount: 0 } });
    expect(claims(r.data!.verifyPasskey.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["swk", "mfa"] });
  });

  it("with an email too: the same options whether the address is known or not", async () => {
    const u = await accountWithPasskey();
    const known = await authenticationOptions({ email: u.email });
    const unknown = await authenticationOptions({ email: "nobody@example.com" });
    const shape = (o: PublicKeyCredentialRequestOptionsJSON) => ({ ...o, challenge: undefined });
    expect(shape(known.options)).toEqual(shape(unknown.options));
    expect(known.options.allowCredentials ?? []).toEqual([]);
    const response = u.auth.getAssertion(known.options, { origin: ORIGIN });
    const r = await request(VerifyPasskeyDocument, { input: { challengeId: known.challengeId, responseJson: JSON.stringify(response) } });
    expect(r.data!.verifyPasskey.status).toBe("AUTHENTICATED");
  });

  it("with TOTP on, a passkey sign-in is already aal2: no MFA_REQUIRED", async () => {
    const u = await accountWithPasskey();
    await turnOnTotp(u.token);
    const r = await usePasskey(u.auth);
    expect(r.data!.verifyPasskey.status).toBe("AUTHENTICATED");
    expect(claims(r.data!.verifyPasskey.tokens!.accessToken)).toMatchObject({ aal: "aal2" });
  });

  it("an unknown credential is UNAUTHENTICATED, and the answer names no account", async () => {
    const stranger = new SoftAuthenticator();
    const u = await provenAccount();
    // A credential made for this rpId but never sent to addPasskey.
    stranger.createCredential((await registrationOptions(u.token)).options, { origin: ORIGIN });
    const r = await usePasskey(stranger);
    expect(errorCode(r)).toBe("UNAUTHENTICATED");
    expect(r.errors![0].message).toBe("That passkey is not registered here.");
  });

  it("a challenge is single use: the same answer twice is refused the second time", async () => {
    const u = await accountWithPasskey();
    const { challengeId, options } = await authenticationOptions(null);
    const input = { challengeId, responseJson: JSON.stringify(u.auth.getAssertion(options, { origin: ORIGIN })) };
    expect((await request(VerifyPasskeyDocument, { input })).data!.verifyPasskey.status).toBe("AUTHENTICATED");
    const again = await request(VerifyPasskeyDocument, { input });
    expect(errorCode(again)).toBe("UNAUTHENTICATED");
    expect(again.errors![0].message).toMatch(/challenge has expired, was used already/);
  });

  it("a challenge of another purpose cannot sign in (step-up options) nor finish an MFA step (sign-in options)", async () => {
    const u = await accountWithPasskey();
    const stepUp = await authenticationOptions(null, u.token);
    const asSignIn = await request(VerifyPasskeyDocument, {
      input: { challengeId: stepUp.challengeId, responseJson: JSON.stringify(u.auth.getAssertion(stepUp.options, { origin: ORIGIN })) },
    });
    expect(errorCode(asSignIn)).toBe("UNAUTHENTICATED");

    await turnOnTotp(u.token);
    const mfaToken = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login.mfaToken!;
    const signIn = await authenticationOptions(null);
    const asMfa = await request(VerifyPasskeyDocument, {
      input: { challengeId: signIn.challengeId, mfaToken, responseJson: JSON.stringify(u.auth.getAssertion(signIn.options, { origin: ORIGIN })) },
    });
    expect(errorCode(asMfa)).toBe("UNAUTHENTICATED");
    expect(await events(u.userId, "login.passkey")).toMatchObject([
      { ok: false, detail: { purpose: "mfa", reason: "challenge_purpose" } },
    ]);
  });

  it.each([
    ["another origin", { origin: "https://evil.example" }, /origin/],
    ["another rpId", { rpId: "evil.example" }, /rpId/],
    ["no user verification", { userVerified: false }, /user verification/],
  ])("refuses an assertion from %s with BAD_USER_INPUT on responseJson", async (_name, client, message) => {
    const u = await accountWithPasskey();
    // Picked by id: the authenticator itself would offer no credential for another rpId.
    const r = await usePasskey(u.auth, { client: { ...client, credentialId: u.auth.credentials()[0].id } });
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(fieldOf(r)).toBe("responseJson");
    expect(r.errors![0].message).toMatch(message);
    expect((await storedPasskey(u.passkey.id)).lastUsedAt).toBeNull();
  });

  it("a counter that does not move forward is audited as a clone signal and refused", async () => {
    const u = await accountWithPasskey();
    expect((await usePasskey(u.auth, { client: { signCount: 10 } })).data!.verifyPasskey.status).toBe("AUTHENTICATED");
    for (const signCount of [5, 10]) {
      const r = await usePasskey(u.auth, { client: { signCount } });
      expect(errorCode(r)).toBe("UNAUTHENTICATED");
      expect(r.errors![0].message).toMatch(/counter went backwards/);
    }
    expect((await storedPasskey(u.passkey.id)).counter).toBe(10n);
    expect(await events(u.userId, "passkey.counter_regressed")).toMatchObject([
      { ok: false, detail: { passkeyId: u.passkey.id, stored: 10, presented: 5 } },
      { ok: false, detail: { passkeyId: u.passkey.id, stored: 10, presented: 10 } },
    ]);
    expect((await usePasskey(u.auth, { client: { signCount: 11 } })).data!.verifyPasskey.status).toBe("AUTHENTICATED");
  });

  it("a userHandle that is not the credential owner's is refused", async () => {
    const u = await accountWithPasskey();
    const other = await accountWithPasskey();
    const { challengeId, options } = await authenticationOptions(null);
    const response = u.auth.getAssertion(options, { origin: ORIGIN });
    response.response.userHandle = other.auth.credentials()[0].userHandle;
    const r = await request(VerifyPasskeyDocument, { input: { challengeId, responseJson: JSON.stringify(response) } });
    expect(errorCode(r)).toBe("UNAUTHENTICATED");
    expect(await events(u.userId, "login.passkey")).toMatchObject([{ ok: false, detail: { reason: "user_handle_mismatch" } }]);
  });

  it("refuses a registration's answer or garbage with BAD_USER_INPUT on responseJson", async () => {
    const { challengeId } = await authenticationOptions(null);
    for (const responseJson of ["[]", "{\"id\":1}", JSON.stringify({ id: "x", type: "public-key", response: { clientDataJSON: "a", attestationObject: "b" } })]) {
      const r = await request(VerifyPasskeyDocument, { input: { challengeId, responseJson } });
      expect(errorCode(r)).toBe("BAD_USER_INPUT");
      expect(fieldOf(r)).toBe("responseJson");
    }
  });
});

describe("verifyPasskey: the second factor of an MFA_REQUIRED sign-in", () => {
  it("is offered beside the others when the account has a passkey, and finishes with amr [pwd, hwk, mfa]", async () => {
    const u = await accountWithPasskey();
    await turnOnTotp(u.token);
    const login = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login;
    expect(login).toMatchObject({ status: "MFA_REQUIRED", mfaMethods: ["TOTP", "RECOVERY_CODE", "EMAIL_OTP", "PASSKEY"] });
    const { options } = await authenticationOptions({ mfaToken: login.mfaToken! });
    expect(options.allowCredentials).toEqual([{ id: u.auth.credentials()[0].id, type: "public-key", transports: ["internal"] }]);
    const r = await usePasskey(u.auth, { mfaToken: login.mfaToken! });
    expect(r.data!.verifyPasskey.status).toBe("AUTHENTICATED");
    expect(claims(r.data!.verifyPasskey.tokens!.accessToken)).toMatchObject({ aal: "aal2", amr: ["pwd", "hwk", "mfa"] });
    // The mfaToken finished its sign-in.
    expect(errorCode(await request(PasskeyAuthenticationOptionsDocument, { input: { mfaToken: login.mfaToken! } }))).toBe("UNAUTHENTICATED");
  });

  it("is not offered to an account without a passkey, whose mfaToken gets no options", async () => {
    const u = await provenAccount();
    await turnOnTotp(u.token);
    const login = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login;
    expect(login.mfaMethods).not.toContain("PASSKEY");
    const r = await request(PasskeyAuthenticationOptionsDocument, { input: { mfaToken: login.mfaToken! } });
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(fieldOf(r)).toBe("mfaToken");
  });

  it("with PASSKEY_ENABLED=false it is never offered, though the account still has a passkey", async () => {
    const u = await accountWithPasskey();
    await turnOnTotp(u.token);
    const off = await startTestGateway({ clock, peerOf: gw, env: { PUBLIC_URL: ORIGIN, TRUST_PROXY: "1", PASSKEY_ENABLED: "false" } });
    try {
      const login = (await off.request(LoginDocument, { input: { email: u.email, password: PASSWORD } }, { headers: { "x-forwarded-for": ip } })).data!.login;
      expect(login.status).toBe("MFA_REQUIRED");
      expect(login.mfaMethods).toContain("TOTP");
      expect(login.mfaMethods).not.toContain("PASSKEY");
    } finally {
      await off.close();
    }
  });

  it("a passkey alone makes no MFA required: a password sign-in stays one step", async () => {
    const u = await accountWithPasskey();
    const login = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login;
    expect(login.status).toBe("AUTHENTICATED");
    expect(claims(login.tokens!.accessToken)).toMatchObject({ aal: "aal1", amr: ["pwd"] });
  });

  it("the challenge belongs to its mfaToken, and another account's passkey cannot finish it", async () => {
    const u = await accountWithPasskey();
    const other = await accountWithPasskey();
    await turnOnTotp(u.token);
    const first = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login.mfaToken!;
    const second = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login.mfaToken!;
    const forFirst = await authenticationOptions({ mfaToken: first });
    const swapped = await request(VerifyPasskeyDocument, {
      input: { challengeId: forFirst.challengeId, mfaToken: second, responseJson: JSON.stringify(u.auth.getAssertion(forFirst.options, { origin: ORIGIN })) },
    });
    expect(errorCode(swapped)).toBe("UNAUTHENTICATED");
    const stranger = await usePasskey(other.auth, { mfaToken: first, client: { credentialId: other.auth.credentials()[0].id } });
    expect(errorCode(stranger)).toBe("UNAUTHENTICATED");
    expect(stranger.errors![0].message).toBe("That passkey is not one of this account's.");
  });
});

describe("verifyPasskey: step-up", () => {
  it("raises the caller's session to aal2 with new tokens", async () => {
    const u = await accountWithPasskey();
    const aal1 = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login.tokens!.accessToken;
    const { options } = await authenticationOptions(null, aal1);
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([u.auth.credentials()[0].id]);
    const r = await usePasskey(u.auth, { token: aal1 });
    expect(r.data!.verifyPasskey).toMatchObject({ status: "AUTHENTICATED", user: { id: u.userId } });
    const stepped = claims(r.data!.verifyPasskey.tokens!.accessToken);
    expect(stepped).toMatchObject({ sid: claims(aal1).sid, aal: "aal2", amr: ["pwd", "hwk", "mfa"] });
    expect(await events(u.userId, "session.stepped_up")).toHaveLength(1);
  });

  it("a step-up challenge works for the session that asked only", async () => {
    const u = await accountWithPasskey();
    const a = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login.tokens!.accessToken;
    const b = (await request(LoginDocument, { input: { email: u.email, password: PASSWORD } })).data!.login.tokens!.accessToken;
    const { challengeId, options } = await authenticationOptions(null, a);
    const r = await request(VerifyPasskeyDocument, { input: { challengeId, responseJson: JSON.stringify(u.auth.getAssertion(options, { origin: ORIGIN })) } }, { token: b });
    expect(errorCode(r)).toBe("UNAUTHENTICATED");
  });
});

describe("me.passkeys, renamePasskey, removePasskey", () => {
  it("me.passkeys shows the owner's passkeys; anyone else gets null", async () => {
    const u = await accountWithPasskey();
    const mine = await request(MyPasskeysDocument, {}, { token: u.token });
    expect(mine.data!.me!.passkeys).toEqual([{ id: u.passkey.id, name: "Passkey", createdAt: expect.any(String), lastUsedAt: null, backedUp: false }]);
    const r = await gw.request<{ _entities: Array<{ passkeys: unknown }> }, { r: unknown[] }>(
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { passkeys { id } } } }",
      { r: [{ __typename: "User", id: u.userId }] },
    );
    expect(r.data!._entities).toEqual([{ passkeys: null }]);
  });

  it("renames (1 to 64 characters after trimming), and only the owner's", async () => {
    const u = await accountWithPasskey();
    const other = await provenAccount();
    const r = await request(RenamePasskeyDocument, { input: { id: u.passkey.id, name: " Phone " } }, { token: u.token });
    expect(r.data!.renamePasskey).toMatchObject({ id: u.passkey.id, name: "Phone" });
    const empty = await request(RenamePasskeyDocument, { input: { id: u.passkey.id, name: " " } }, { token: u.token });
    expect(fieldOf(empty)).toBe("name");
    const theirs = await request(RenamePasskeyDocument, { input: { id: u.passkey.id, name: "Mine now" } }, { token: other.token });
    expect(errorCode(theirs)).toBe("BAD_USER_INPUT");
    expect(fieldOf(theirs)).toBe("id");
    expect((await storedPasskey(u.passkey.id)).name).toBe("Phone");
    expect(await events(u.userId, "passkey.renamed")).toHaveLength(1);
  });

  it("removes a passkey (it no longer signs in), audits it and emails a notice", async () => {
    const u = await accountWithPasskey();
    const r = await request(RemovePasskeyDocument, { id: u.passkey.id }, { token: u.token });
    expect(r.data!.removePasskey).toBe(true);
    expect(await gw.db.db.prisma.passkey.count({ where: { userId: u.userId } })).toBe(0);
    expect(await events(u.userId, "passkey.removed")).toMatchObject([{ ok: true, detail: { passkeyId: u.passkey.id } }]);
    const notice = await noticeTo(u.email, "A passkey was removed from your Acme account");
    expect(notice.text).toContain('"Passkey"');
    expect(errorCode(await usePasskey(u.auth))).toBe("UNAUTHENTICATED");
  });

  it("needs a recent sign-in, and the owner's passkey id", async () => {
    const u = await accountWithPasskey();
    const other = await provenAccount();
    expect(errorCode(await later(() => request(RemovePasskeyDocument, { id: u.passkey.id }, { token: u.token })))).toBe("FORBIDDEN");
    for (const [id, token] of [[u.passkey.id, other.token], ["not-a-uuid", u.token], ["00000000-0000-4000-8000-000000000000", u.token]]) {
      const r = await request(RemovePasskeyDocument, { id }, { token });
      expect(errorCode(r)).toBe("BAD_USER_INPUT");
      expect(fieldOf(r)).toBe("id");
    }
    expect(await gw.db.db.prisma.passkey.count({ where: { userId: u.userId } })).toBe(1);
  });

  it("renaming needs the same recent sign-in as removing", async () => {
    const u = await accountWithPasskey();
    expect(errorCode(await later(() => request(RenamePasskeyDocument, { input: { id: u.passkey.id, name: "Stale" } }, { token: u.token })))).toBe("FORBIDDEN");
    expect((await storedPasskey(u.passkey.id)).name).toBe("Passkey");
    expect(await events(u.userId, "passkey.renamed")).toMatchObject([{ ok: false, detail: { reason: "sign_in_not_recent" } }]);
  });

  it("removes or renames only while the session asking is live (a logout landing after the checks wins)", async () => {
    const u = await accountWithPasskey();
    const sid = claims(u.token).sid;
    beforePasskeyWrite = async () => void (await gw.db.db.prisma.session.update({ where: { id: sid }, data: { revokedAt: new Date(), revokedReason: "logout" } }));
    try {
      expect(errorCode(await request(RemovePasskeyDocument, { id: u.passkey.id }, { token: u.token }))).toBe("UNAUTHENTICATED");
      await gw.db.db.prisma.session.update({ where: { id: sid }, data: { revokedAt: null, revokedReason: null } });
      expect(errorCode(await request(RenamePasskeyDocument, { input: { id: u.passkey.id, name: "After logout" } }, { token: u.token }))).toBe("UNAUTHENTICATED");
    } finally {
      beforePasskeyWrite = null;
    }
    expect(await storedPasskey(u.passkey.id)).toMatchObject({ name: "Passkey" });
  });

  it("never removes the last way in: with no password and no proven address, one passkey always stays, also under concurrency", async () => {
    const u = await accountWithPasskey();
    expect((await addPasskey(u.token, new SoftAuthenticator())).errors).toBeUndefined();
    // No flow leaves a passkey account with nothing else (a proven address is needed to add one): made here directly.
    await gw.db.db.prisma.user.update({ where: { id: u.userId }, data: { passwordHash: null, emailVerified: false } });
    const ids = (await gw.db.db.prisma.passkey.findMany({ where: { userId: u.userId } })).map((p) => p.id);
    const results = await Promise.all(ids.map((id) => request(RemovePasskeyDocument, { id }, { token: u.token })));
    expect(results.filter((r) => r.data?.removePasskey === true)).toHaveLength(1);
    const refused = results.find((r) => r.errors)!;
    expect(errorCode(refused)).toBe("BAD_USER_INPUT");
    expect(fieldOf(refused)).toBe("id");
    expect(refused.errors![0].message).toMatch(/last way to sign in/);
    expect(await gw.db.db.prisma.passkey.count({ where: { userId: u.userId } })).toBe(1);
  });

  it("never removes the last way in when a passkey and an identity are removed at once (each would count the other)", async () => {
    const u = await accountWithPasskey();
    // Its ways in: the passkey and an identity (the password and the email's proof taken away directly).
    await gw.db.db.prisma.user.update({ where: { id: u.userId }, data: { passwordHash: null, emailVerified: false } });
    const identity = await gw.db.db.prisma.identity.create({ data: { userId: u.userId, provider: "acme", subject: `both-${u.userId}` } });
    // The unlink lands between the passkey removal's count (two ways in) and its write.
    let unlinked: GqlResult<{ unlinkIdentity: boolean }> | undefined;
    beforePasskeyWrite = async () => {
      beforePasskeyWrite = null;
      unlinked = await request(UnlinkIdentityDocument, { id: identity.id }, { token: u.token });
    };
    try {
      const removed = await request(RemovePasskeyDocument, { id: u.passkey.id }, { token: u.token });
      expect(unlinked!.data?.unlinkIdentity).toBe(true);
      expect(errorCode(removed)).toBe("BAD_USER_INPUT");
      expect(removed.errors![0].message).toMatch(/last way to sign in/);
    } finally {
      beforePasskeyWrite = null;
    }
    expect(await gw.db.db.prisma.passkey.count({ where: { userId: u.userId } })).toBe(1);
    expect(await gw.db.db.prisma.identity.count({ where: { userId: u.userId } })).toBe(0);
    expect(await events(u.userId, "passkey.removed")).toMatchObject([{ ok: false, detail: { reason: "last_way_in" } }]);
  });
});

describe("limits", () => {
  it("options are limited per IP (RATE_LIMITED with retryAfter)", async () => {
    const replies = [];
    for (let i = 0; i < 61; i++) replies.push(await request(PasskeyAuthenticationOptionsDocument, { input: null }));
    expect(replies.slice(0, 60).every((r) => r.errors === undefined)).toBe(true);
    const refused = replies[60];
    expect(errorCode(refused)).toBe("RATE_LIMITED");
    expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
  });
});
