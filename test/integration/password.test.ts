import { LoginDocument, MeDocument, SignUpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { LOGIN_MAX_FAILURES: "3" } });
});
afterAll(() => gw.close());

const signUp = (email: string, password: string, phone?: string) => gw.request(SignUpDocument, { input: { email, password, phone } });
const login = (email: string, password: string, headers?: Record<string, string>) =>
  gw.request(LoginDocument, { input: { email, password } }, { headers });

describe("signUp", () => {
  it("creates an account and signs it in", async () => {
    const r = await signUp("  Ann@Example.COM ", "correct horse battery");
    expect(r.errors).toBeUndefined();
    const p = r.data!.signUp;
    expect(p.status).toBe("AUTHENTICATED");
    expect(p.isNewUser).toBe(true);
    expect(p.mfaToken).toBeNull();
    expect(p.mfaMethods).toEqual([]);
    expect(p.user).toMatchObject({ email: "ann@example.com", emailVerified: false, phone: null, totpEnabled: false });
    expect(p.tokens).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
    const me = await gw.request(MeDocument, {}, { token: p.tokens!.accessToken });
    expect(me.data!.me).toMatchObject({ id: p.user!.id, email: "ann@example.com" });
  });

  it("stores the password only as an argon2id hash with OWASP parameters", async () => {
    await signUp("hash@example.com", "a long enough secret");
    const user = await gw.db.db.prisma.user.findUniqueOrThrow({ where: { email: "hash@example.com" } });
    expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(user.passwordHash).not.toContain("a long enough secret");
  });

  it.each([
    ["too short", "short7!", /at least 8/],
    ["too long", "x".repeat(257), /at most 256/],
    ["common", "iloveyou123", /too common/],
    ["the email", "Sam@Example.com", /email/],
  ])("rejects a password that is %s, naming the field", async (_rule, password, message) => {
    const r = await signUp("sam@example.com", password);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].extensions!.field).toBe("password");
    expect(r.errors![0].message).toMatch(message);
  });

  it("accepts long passphrases without composition rules", async () => {
    const r = await signUp("phrase@example.com", "all lower case words are fine here");
    expect(r.data!.signUp.status).toBe("AUTHENTICATED");
  });

  it("rejects a malformed email, naming the field, and stores nothing", async () => {
    const r = await signUp("not-an-email", "correct horse battery");
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].extensions!.field).toBe("email");
    expect(await gw.db.db.prisma.user.count({ where: { email: "not-an-email" } })).toBe(0);
  });

  it("answers a phone the same whether or not another account holds it: checked, not stored", async () => {
    await gw.db.db.prisma.user.create({ data: { email: "holder@example.com", phone: "+447911123456", phoneVerified: true } });
    const taken = await signUp("phone-taken@example.com", "correct horse battery", "+44 7911 123456");
    const free = await signUp("phone-free@example.com", "correct horse battery", "+44 7400 654321");
    for (const r of [taken, free]) {
      expect(r.errors).toBeUndefined();
      expect(r.data!.signUp.user).toMatchObject({ phone: null, phoneVerified: false });
      expect((await gw.request(MeDocument, {}, { token: r.data!.signUp.tokens!.accessToken })).data!.me).toMatchObject({ phone: null, phoneVerified: false });
    }
    expect(await gw.db.db.prisma.user.count({ where: { phone: "+447400654321" } })).toBe(0);
  });

  it("rejects a phone that is not a valid international number", async () => {
    const r = await signUp("badphone@example.com", "correct horse battery", "12345");
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].extensions!.field).toBe("phone");
  });

  it("signs in the owner again when the email is taken and the password is theirs", async () => {
    await signUp("twice@example.com", "correct horse battery");
    const again = await signUp("twice@example.com", "correct horse battery");
    expect(again.data!.signUp).toMatchObject({ status: "AUTHENTICATED", isNewUser: false });
  });

  it("answers a taken email with a wrong password exactly like a failed login", async () => {
    await signUp("taken@example.com", "correct horse battery");
    const r = await signUp("taken@example.com", "another long password");
    const l = await login("unknown-person@example.com", "another long password");
    expect(r.errors![0]).toMatchObject({ message: l.errors![0].message, extensions: l.errors![0].extensions });
    expect(await gw.db.db.prisma.user.count({ where: { email: "taken@example.com" } })).toBe(1);
  });
});

describe("login", () => {
  beforeAll(() => signUp("lee@example.com", "correct horse battery"));

  it("signs in with the right password, amr pwd", async () => {
    const r = await login("LEE@example.com", "correct horse battery");
    expect(r.data!.login).toMatchObject({ status: "AUTHENTICATED", isNewUser: false, user: { email: "lee@example.com" } });
  });

  it("answers a wrong password and an unknown email with the same code and message", async () => {
    const wrong = await login("lee@example.com", "not the password");
    const unknown = await login("nobody-here@example.com", "not the password");
    expect(errorCode(wrong)).toBe("UNAUTHENTICATED");
    expect(unknown.errors![0].message).toBe(wrong.errors![0].message);
    expect(unknown.errors![0].extensions).toEqual(wrong.errors![0].extensions);
    expect(wrong.data).toBeNull();
  });

  it("audits successes and failures without secrets", async () => {
    await login("lee@example.com", "not the password");
    const events = await gw.db.db.prisma.authEvent.findMany({ where: { type: "login.password" } });
    expect(events.some((e) => e.ok)).toBe(true);
    expect(events.some((e) => !e.ok)).toBe(true);
    expect(JSON.stringify(events)).not.toContain("not the password");
  });

  it("limits attempts per account: RATE_LIMITED with retryAfter, even for the right password", async () => {
    await signUp("limited@example.com", "correct horse battery");
    for (let i = 0; i < 3; i++) expect(errorCode(await login("limited@example.com", `wrong ${i} password`))).toBe("UNAUTHENTICATED");
    const r = await login("limited@example.com", "correct horse battery");
    expect(errorCode(r)).toBe("RATE_LIMITED");
    expect(r.errors![0].extensions!.retryAfter).toEqual(expect.any(Number));
    expect(r.errors![0].extensions!.retryAfter as number).toBeGreaterThan(0);
    expect(r.errors![0].extensions!.retryAfter as number).toBeLessThanOrEqual(900);
  });

  it("a successful login resets the account's failure count", async () => {
    await signUp("resets@example.com", "correct horse battery");
    await login("resets@example.com", "wrong password 1");
    await login("resets@example.com", "wrong password 2");
    expect((await login("resets@example.com", "correct horse battery")).data!.login.status).toBe("AUTHENTICATED");
    await login("resets@example.com", "wrong password 3");
    expect((await login("resets@example.com", "correct horse battery")).data!.login.status).toBe("AUTHENTICATED");
  });

  it("concurrent attempts cannot beat the limit: each is counted before the hash is checked", async () => {
    await signUp("concurrent@example.com", "correct horse battery");
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => login("concurrent@example.com", `guess number ${i}`)));
    const codes = results.map(errorCode).sort();
    expect(codes).toEqual([...Array(7).fill("RATE_LIMITED"), ...Array(3).fill("UNAUTHENTICATED")]);
  });

  it("aliased guesses in one operation run one at a time and stop at the first failure", async () => {
    await signUp("alias@example.com", "correct horse battery");
    const fields = [0, 1, 2, 3].map((i) => `a${i}: login(input: { email: "alias@example.com", password: "guess number ${i}" }) { status }`);
    const r = await gw.request(`mutation { ${fields.join("\n")} }`);
    expect(r.data).toBeNull();
    expect(r.errors!.map((e) => e.path)).toEqual([["a0"]]);
  });

  it("refuses an operation with more auth mutations than allowed, before running any", async () => {
    const fields = [0, 1, 2, 3, 4, 5].map((i) => `a${i}: login(input: { email: "six@example.com", password: "guess number ${i}" }) { status }`);
    const r = await gw.request(`mutation { ${fields.join("\n")} }`);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].message).toMatch(/at most 5/);
    const before = await gw.db.db.prisma.authEvent.count({ where: { type: "login.password" } });
    await gw.request(`mutation { ${fields.join("\n")} }`);
    expect(await gw.db.db.prisma.authEvent.count({ where: { type: "login.password" } })).toBe(before);
  });

  it("rejects a malformed email with BAD_USER_INPUT naming the field", async () => {
    const r = await login("nope", "whatever password");
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].extensions!.field).toBe("email");
  });
});

describe("a login storm", () => {
  let stormy: TestGateway;
  beforeAll(async () => {
    // The shortest wait for a core; argon2id runs one hash per core, a few ms each.
    stormy = await startTestGateway({ env: { PASSWORD_HASH_QUEUE_WAIT_MS: "100", LOGIN_MAX_FAILURES: "1000" } });
    await stormy.request(SignUpDocument, { input: { email: "storm@example.com", password: "correct horse battery" } });
  });
  afterAll(() => stormy.close());

  it("answers UNAVAILABLE with retryAfter to the logins that waited too long for a core, instead of queueing without bound", async () => {
    // Far more hashes than the cores finish in 100 ms (right passwords: no failure limit applies).
    const answers = await Promise.all(
      Array.from({ length: 120 }, () => stormy.request(LoginDocument, { input: { email: "storm@example.com", password: "correct horse battery" } })),
    );
    const codes = answers.map((a) => (a.errors ? errorCode(a) : a.data!.login.status));
    expect(codes.filter((c) => c !== "AUTHENTICATED" && c !== "UNAVAILABLE")).toEqual([]);
    expect(codes).toContain("AUTHENTICATED");
    expect(codes).toContain("UNAVAILABLE");
    const refused = answers.find((a) => a.errors)!;
    expect(refused.errors![0].extensions).toMatchObject({ code: "UNAVAILABLE", retryAfter: expect.any(Number) });
  });
});
