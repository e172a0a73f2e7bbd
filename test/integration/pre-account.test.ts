import { URI, type TOTP } from "otpauth";
import {
  ChangePasswordDocument,
  ConfirmTotpDocument,
  EnrollTotpDocument,
  LoginDocument,
  MeDocument,
  ConsumeMagicLinkDocument,
  RefreshTokensDocument,
  RequestMagicLinkDocument,
  RequestOtpDocument,
  SessionsDocument,
  SignUpDocument,
  VerifyOtpDocument,
  VerifyTotpDocument,
} from "../__generated__/graphql";
import { PrismaUserRepo } from "../../src/infra/db/user.repo";
import { whileCommitting } from "../helpers/database";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

/*
 * Pre-account hijacking: someone puts another person's address, unproven, on an account
 * before its owner shows up. Proving the address never signs its owner into that account
 * when anyone proved anything on it (the address moves to a new account of the owner's),
 * and claiming an account nobody proved anything on leaves its creator nothing.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { SMS_ALLOWED_COUNTRIES: "US", OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_REQUESTS_PER_IP_PER_HOUR: "1000", SMS_PREFIX_VELOCITY_MAX: "1000" } });
});
afterAll(() => gw.close());

const PASSWORD = "attacker chose this";
let n = 0;
const email = (tag: string) => `${tag}${++n}@example.com`;
const phone = () => `+1202555${String(2000 + ++n).slice(-4)}`;
const users = {
  byId: (id: string) => gw.db.db.prisma.user.findUnique({ where: { id } }),
  events: (userId: string, type: string) => gw.db.db.prisma.authEvent.findMany({ where: { userId, type } }),
};

type Channel = "EMAIL" | "SMS";
async function requestCode(channel: Channel, destination: string, purpose: "SIGN_IN" | "VERIFY_CONTACT" = "SIGN_IN", token?: string) {
  const before = gw.outbox!.list().filter((m) => m.to === destination).length;
  const r = await gw.request(RequestOtpDocument, { input: { channel, destination, purpose } }, { token });
  expect(r.errors).toBeUndefined();
  return { challengeId: r.data!.requestOtp.challengeId, code: await gw.codeSentTo(destination, before + 1) };
}
const verify = (challengeId: string, code: string, token?: string) => gw.request(VerifyOtpDocument, { input: { challengeId, code } }, { token });
async function signInByCode(channel: Channel, destination: string) {
  const { challengeId, code } = await requestCode(channel, destination);
  return (await verify(challengeId, code)).data!.verifyOtp;
}
async function proveContact(token: string, channel: Channel, destination: string) {
  const { challengeId, code } = await requestCode(channel, destination, "VERIFY_CONTACT", token);
  return verify(challengeId, code, token);
}
async function signUp(address: string) {
  const r = (await gw.request(SignUpDocument, { input: { email: address, password: PASSWORD } })).data!.signUp;
  return { token: r.tokens!.accessToken, refreshToken: r.tokens!.refreshToken, userId: r.user!.id };
}
/** An unproven number on an account, as signUp(phone:) stored them before this release. */
const putUnprovenPhone = (userId: string, number: string) => gw.db.db.prisma.user.update({ where: { id: userId }, data: { phone: number, phoneVerified: false } });
/** An email code and a magic link to the same address, proven at the same moment (a newer code would supersede an older one). */
async function proveTwiceAtOnce(address: string) {
  const code = await requestCode("EMAIL", address);
  const before = gw.outbox!.list().filter((m) => m.to === address).length;
  await gw.request(RequestMagicLinkDocument, { input: { email: address } });
  const token = (await gw.sentTo(address, before + 1))[0].text.match(/token=([\w-]+)/)![1];
  const [byCode, byLink] = await Promise.all([verify(code.challengeId, code.code), gw.request(ConsumeMagicLinkDocument, { input: { token } })]);
  return [byCode.data!.verifyOtp, byLink.data!.consumeMagicLink];
}
const me = async (token: string) => (await gw.request(MeDocument, {}, { token })).data!.me;

describe("signing up by proving a new address", () => {
  it("two concurrent first proofs make one account, and both sign in to it", async () => {
    const address = email("new-race");
    const both = await proveTwiceAtOnce(address);
    expect(both.map((r) => r.status)).toEqual(["AUTHENTICATED", "AUTHENTICATED"]);
    expect(both[0].user!.id).toBe(both[1].user!.id);
    expect(both.filter((r) => r.isNewUser)).toHaveLength(1);
    expect(await users.events(both[0].user!.id, "user.signed_up")).toHaveLength(1);
  });

  it("a sign-up waiting on a concurrent one for the address never makes a second account", async () => {
    const address = email("new-wait");
    const repo = new PrismaUserRepo(gw.db.db.prisma, gw.db.db.sql);
    let theirs = "";
    const found = await whileCommitting(
      gw.db,
      async (tx) => (theirs = (await tx.user.create({ data: { email: address, emailVerified: true } })).id),
      () => repo.findOrCreateByContact({ kind: "email", address }),
    );
    // Null (read again) when the concurrent account committed after this statement's snapshot.
    expect(found?.created).not.toBe(true);
    expect(found ?? (await repo.findOrCreateByContact({ kind: "email", address }))).toMatchObject({ created: false, user: { id: theirs } });
    expect(await gw.db.db.prisma.user.count({ where: { email: address } })).toBe(1);
  });
});

describe("an unproven address on an account someone proved something on", () => {
  it("(A) the victim's email, the attacker's proven phone: the victim's email code gives the victim an account of their own", async () => {
    const victimEmail = email("victim-a");
    const attackerPhone = phone();
    const attacker = await signUp(victimEmail);
    expect((await proveContact(attacker.token, "SMS", attackerPhone)).errors).toBeUndefined();

    const victim = await signInByCode("EMAIL", victimEmail);
    expect(victim).toMatchObject({ status: "AUTHENTICATED", isNewUser: true, user: { email: victimEmail, emailVerified: true, phone: null } });
    expect(victim.user!.id).not.toBe(attacker.userId);

    // The attacker's account keeps its phone and loses the address it never proved, and with
    // it the password's way in: a removal of a way in that counted it counts again.
    expect(await users.byId(attacker.userId)).toMatchObject({ email: null, emailVerified: false, phone: attackerPhone, phoneVerified: true, waysInVersion: 1 });
    const again = await signInByCode("SMS", attackerPhone);
    expect(again.user!.id).toBe(attacker.userId);
    const theirSessions = (await gw.request(SessionsDocument, {}, { token: again.tokens!.accessToken })).data!.sessions;
    const victimSid = JSON.parse(Buffer.from(victim.tokens!.accessToken.split(".")[1], "base64url").toString()).sid;
    expect(theirSessions.map((s) => s.id)).not.toContain(victimSid);
    expect(errorCode(await gw.request(LoginDocument, { input: { email: victimEmail, password: PASSWORD } }))).toBe("UNAUTHENTICATED");
    expect(await users.events(attacker.userId, "account.contact_detached")).toMatchObject([{ ok: true, detail: { kind: "email", toUserId: victim.user!.id } }]);
  });

  it("(B) the attacker's proven email, the victim's phone: the victim's first SMS sign-in does not land in the attacker's account", async () => {
    const attackerEmail = email("attacker-b");
    const victimPhone = phone();
    const attacker = await signInByCode("EMAIL", attackerEmail);
    await putUnprovenPhone(attacker.user!.id, victimPhone);

    const victim = await signInByCode("SMS", victimPhone);
    expect(victim).toMatchObject({ status: "AUTHENTICATED", isNewUser: true, user: { phone: victimPhone, phoneVerified: true, email: null } });
    expect(victim.user!.id).not.toBe(attacker.user!.id);
    expect(await me(attacker.tokens!.accessToken)).toMatchObject({ email: attackerEmail, phone: null });
  });

  it("two concurrent proofs of the address end in one new account", async () => {
    const victimEmail = email("victim-race");
    const attacker = await signUp(victimEmail);
    expect((await proveContact(attacker.token, "SMS", phone())).errors).toBeUndefined();
    const both = await proveTwiceAtOnce(victimEmail);
    expect(both.map((r) => r.status)).toEqual(["AUTHENTICATED", "AUTHENTICATED"]);
    expect(both[0].user!.id).toBe(both[1].user!.id);
    expect(both[0].user!.id).not.toBe(attacker.userId);
    expect(await users.events(attacker.userId, "account.contact_detached")).toHaveLength(1);
  });
});

describe("claiming an account nobody proved anything on", () => {
  it("removes everything its creator set: password, the other contact, TOTP, recovery codes, every session", async () => {
    const victimEmail = email("victim-claim");
    const creator = await signUp(victimEmail);
    await putUnprovenPhone(creator.userId, phone());
    const app = URI.parse((await gw.request(EnrollTotpDocument, {}, { token: creator.token })).data!.enrollTotp.otpauthUrl) as TOTP;
    const confirmed = await gw.request(ConfirmTotpDocument, { code: app.generate() }, { token: creator.token });
    expect(confirmed.data!.confirmTotp.codes).toHaveLength(10);

    const victim = await signInByCode("EMAIL", victimEmail);
    // The same account, handed over: no second factor of the creator's stands in the way.
    expect(victim).toMatchObject({ status: "AUTHENTICATED", user: { id: creator.userId, email: victimEmail, emailVerified: true, phone: null, totpEnabled: false } });

    expect(await users.byId(creator.userId)).toMatchObject({ passwordHash: null, phone: null, phoneVerified: false, totpEnabled: false });
    expect(await gw.db.db.prisma.totpFactor.count({ where: { userId: creator.userId } })).toBe(0);
    expect(await gw.db.db.prisma.recoveryCode.count({ where: { userId: creator.userId } })).toBe(0);
    expect(errorCode(await gw.request(LoginDocument, { input: { email: victimEmail, password: PASSWORD } }))).toBe("UNAUTHENTICATED");
    expect(await me(creator.token)).toBeNull();
    expect(errorCode(await gw.request(RefreshTokensDocument, { refreshToken: creator.refreshToken }))).toBe("UNAUTHENTICATED");
    // The victim's own session is the only one left.
    const sessions = (await gw.request(SessionsDocument, {}, { token: victim.tokens!.accessToken })).data!.sessions;
    expect(sessions).toHaveLength(1);
    expect(sessions[0].current).toBe(true);
    expect(await users.events(creator.userId, "account.claimed")).toMatchObject([
      { ok: true, detail: { via: "email", passwordRemoved: true, otherContactRemoved: true, totpRemoved: true, sessionsEnded: 1 } },
    ]);
    // A TOTP code of the creator's app no longer means anything here.
    expect(errorCode(await gw.request(VerifyTotpDocument, { input: { code: app.generate() } }, { token: victim.tokens!.accessToken }))).toBe("BAD_USER_INPUT");
  });

  it("two concurrent claims: one claims, the other signs in to the claimed account; both sessions live", async () => {
    const victimEmail = email("claim-race");
    const creator = await signUp(victimEmail);
    const both = await proveTwiceAtOnce(victimEmail);
    expect(both.map((r) => r.user!.id)).toEqual([creator.userId, creator.userId]);
    for (const r of both) expect(await me(r.tokens!.accessToken)).not.toBeNull();
    expect(await users.events(creator.userId, "account.claimed")).toHaveLength(1);
  });
});

/*
 * The creator is still signing in, or still changing the account, when its owner claims it.
 * Each write checked what the creator held before the claim committed; none may land after.
 */
describe("a claim racing what its creator is doing", () => {
  const liveSessions = (userId: string) => gw.db.db.prisma.session.findMany({ where: { userId, revokedAt: null } });

  it("password logins in flight (checked against the old password) leave no session on the claimed account", async () => {
    const victimEmail = email("claim-vs-login");
    const creator = await signUp(victimEmail);
    const { challengeId, code } = await requestCode("EMAIL", victimEmail);
    // The logins are inside argon2 while the claim commits.
    const logins = Array.from({ length: 4 }, () => gw.request(LoginDocument, { input: { email: victimEmail, password: PASSWORD } }));
    const claim = verify(challengeId, code);
    const [claimed, ...answers] = await Promise.all([claim, ...logins]);
    const victim = claimed.data!.verifyOtp;
    expect(victim.user!.id).toBe(creator.userId);

    const live = await liveSessions(creator.userId);
    const victimSid = JSON.parse(Buffer.from(victim.tokens!.accessToken.split(".")[1], "base64url").toString()).sid;
    expect(live.map((s) => s.id)).toEqual([victimSid]);
    for (const a of answers) {
      // Each login either lost to the claim, or finished first and was ended by it.
      if (a.errors) expect(errorCode(a)).toBe("UNAUTHENTICATED");
      else expect(await me(a.data!.login.tokens!.accessToken)).toBeNull();
    }
    expect(answers.some((a) => a.errors)).toBe(true);
    expect(await users.events(creator.userId, "session.refused")).not.toHaveLength(0);
  });

  it("a password change in flight from the creator's session does not survive the claim", async () => {
    const victimEmail = email("claim-vs-change");
    const creator = await signUp(victimEmail);
    const { challengeId, code } = await requestCode("EMAIL", victimEmail);
    // The change hashes the new password (argon2) while the claim commits.
    const change = gw.request(ChangePasswordDocument, { input: { newPassword: "the creator's second try" } }, { token: creator.token });
    const [claimed, changed] = await Promise.all([verify(challengeId, code), change]);
    expect(claimed.data!.verifyOtp.user!.id).toBe(creator.userId);
    if (changed.errors) expect(errorCode(changed)).toBe("UNAUTHENTICATED");
    expect(await users.byId(creator.userId)).toMatchObject({ passwordHash: null });
    expect(errorCode(await gw.request(LoginDocument, { input: { email: victimEmail, password: "the creator's second try" } }))).toBe("UNAUTHENTICATED");
  });

  it("the creator proving a phone of theirs at the moment of the claim never leaves it on the owner's account", async () => {
    for (let round = 0; round < 3; round++) {
      const victimEmail = email("claim-vs-contact");
      const attackerPhone = phone();
      const creator = await signUp(victimEmail);
      const phoneCode = await requestCode("SMS", attackerPhone, "VERIFY_CONTACT", creator.token);
      const emailCode = await requestCode("EMAIL", victimEmail);
      const [victim, proved] = await Promise.all([verify(emailCode.challengeId, emailCode.code), verify(phoneCode.challengeId, phoneCode.code, creator.token)]);
      const owner = await users.byId(victim.data!.verifyOtp.user!.id);
      // Whichever came first: the owner's account holds the owner's email and not the creator's phone.
      expect(owner).toMatchObject({ email: victimEmail, emailVerified: true });
      expect(owner!.phone).not.toBe(attackerPhone);
      if (proved.errors) expect(errorCode(proved)).toBe("UNAUTHENTICATED");
      const bySms = await signInByCode("SMS", attackerPhone);
      expect(bySms.user!.id).not.toBe(owner!.id);
    }
  });
});

describe("VERIFY_CONTACT", () => {
  it("moves an address unproven on another account to the account that proves it", async () => {
    const number = phone();
    const other = await signUp(email("parked"));
    await putUnprovenPhone(other.userId, number);
    const owner = await signInByCode("EMAIL", email("owner"));
    const v = await proveContact(owner.tokens!.accessToken, "SMS", number);
    expect(v.data!.verifyOtp).toMatchObject({ status: "AUTHENTICATED", tokens: null, user: { id: owner.user!.id, phone: number, phoneVerified: true } });
    expect(await users.byId(other.userId)).toMatchObject({ phone: null, phoneVerified: false });
    expect(await users.events(other.userId, "account.contact_detached")).toMatchObject([{ ok: true, detail: { kind: "phone", toUserId: owner.user!.id } }]);
  });

  it("still cannot take an address another account proved", async () => {
    const number = phone();
    expect((await signInByCode("SMS", number)).status).toBe("AUTHENTICATED");
    const someoneElse = await signInByCode("EMAIL", email("taker"));
    const v = await proveContact(someoneElse.tokens!.accessToken, "SMS", number);
    expect(errorCode(v)).toBe("BAD_USER_INPUT");
    expect(v.errors![0].extensions!.field).toBe("destination");
  });
});
