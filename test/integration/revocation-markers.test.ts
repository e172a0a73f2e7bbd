import { LogoutDocument, MeDocument, RefreshTokensDocument, SignUpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { hostAndPort, startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";
import { waitFor } from "../helpers/wait";

/**
 * A revocation is complete even when Redis fails while it happens: Postgres records it,
 * the client gets its answer, the audit row is written, and the marker that stops the
 * session's access tokens on every instance is written once Redis answers again.
 */

const APP = "https://app.example.test";
const COOKIE_MODE = { "x-refresh-token-delivery": "cookie", origin: APP };
const PASSWORD = "correct horse battery";

let redis: TcpProxy;
/** Reaches Redis through the proxy: it sees the outage. */
let gw: TestGateway;
/** A second instance on the same Redis and database, reaching Redis directly: it sees no outage. */
let peer: TestGateway;

beforeAll(async () => {
  redis = await startTcpProxy(hostAndPort(process.env.REDIS_URL!, 6379));
  gw = await startTestGateway({
    through: { redis },
    // Short enough for an outage to show quickly, long enough that a loaded CI machine's pauses are not one.
    env: { REDIS_COMMAND_TIMEOUT_MS: "1000", REFRESH_TOKEN_COOKIE: "true", ALLOWED_ORIGINS: APP },
  });
  peer = await startTestGateway({ peerOf: gw });
});
afterEach(async () => {
  await redis.pass();
});
afterAll(async () => {
  await peer?.close();
  await gw?.close();
  await redis?.close();
});

let n = 0;
const sidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()).sid;
const marker = (sid: string) => peer.store.get(`session:revoked:${sid}`);
const meOn = async (g: TestGateway, token: string) => (await g.request(MeDocument, undefined, { token })).data?.me ?? null;
const audited = (type: string, sessionId: string) =>
  gw.db.db.prisma.authEvent.findMany({ where: { type, detail: { path: ["sessionId"], equals: sessionId } } });
const revokedAt = async (sid: string) => (await gw.db.db.prisma.session.findUniqueOrThrow({ where: { id: sid } })).revokedAt;

async function signUp(headers?: Record<string, string>) {
  const r = await gw.request(SignUpDocument, { input: { email: `revoked${++n}@example.com`, password: PASSWORD } }, { headers });
  if (!r.data?.signUp.tokens) throw new Error(`signUp failed: ${JSON.stringify(r.errors)}`);
  const tokens = r.data.signUp.tokens;
  return { tokens, sid: sidOf(tokens.accessToken), setCookie: r.headers.getSetCookie() };
}

// Partitioned first: a connection still reconnecting after a refusal would time out noisily in a partition.
const outages = [
  ["partitioned (black-holed)", async () => redis.blackHole()],
  ["refusing connections", () => redis.refuse()],
] as const;

describe.each(outages)("refresh-token reuse while Redis is %s", (_name, failRedis) => {
  it("answers UNAUTHENTICATED, audits session.refresh_reuse, and the thief's access token stops on every instance once Redis is back", async () => {
    const { tokens, sid } = await signUp();
    // The thief rotates the stolen refresh token first; the victim's copy is now spent.
    const thief = (await gw.request(RefreshTokensDocument, { refreshToken: tokens.refreshToken })).data!.refreshTokens;
    expect(await meOn(peer, thief.accessToken)).not.toBeNull();

    await failRedis();
    const reuse = await gw.request(RefreshTokensDocument, { refreshToken: tokens.refreshToken });
    expect(errorCode(reuse)).toBe("UNAUTHENTICATED");
    expect(reuse.errors![0].message).toBe("The refresh token is not valid. Sign in again.");
    expect(await revokedAt(sid)).not.toBeNull();
    expect(await audited("session.refresh_reuse", sid)).toHaveLength(1);
    expect(gw.logs.some((l) => l.level === "warn" && l.msg === "revocation marker not written: retried until the store answers" && l.sessionId === sid)).toBe(true);

    await redis.pass();
    // The instance that saw the outage asks Postgres until its markers are synced…
    await waitFor(async () => (await meOn(gw, thief.accessToken)) === null, "the thief's access token to be refused here");
    // …and the one that saw nothing trusts Redis, where the sync writes the marker.
    await waitFor(async () => (await meOn(peer, thief.accessToken)) === null, "the thief's access token to be refused on the other instance");
    expect(await marker(sid)).toBe("refresh_token_reuse");
    await waitFor(async () => {
      const synced = await gw.db.db.prisma.authEvent.findMany({ where: { type: "session.revocation_marker_synced" } });
      return synced.some((e) => (e.detail as { failedWrites: number }).failedWrites >= 1);
    }, "the session.revocation_marker_synced audit row");
  });
});

describe("logout while Redis refuses connections", () => {
  it("answers true, audits session.logout, and the access token stops on every instance once Redis is back", async () => {
    const { tokens, sid, setCookie } = await signUp(COOKIE_MODE);
    const cookie = setCookie.find((c) => c.startsWith("refresh_token="))!.split(";")[0];
    expect(await meOn(peer, tokens.accessToken)).not.toBeNull();

    await redis.refuse();
    // A browser that lost its access token logs out with the cookie: nothing needs Redis to know who it is.
    const out = await gw.request(LogoutDocument, undefined, { headers: { ...COOKIE_MODE, cookie } });
    expect(out.errors).toBeUndefined();
    expect(out.data!.logout).toBe(true);
    expect(await revokedAt(sid)).not.toBeNull();
    expect(await audited("session.logout", sid)).toHaveLength(1);

    await redis.pass();
    await waitFor(async () => (await meOn(gw, tokens.accessToken)) === null, "the access token to be refused here");
    await waitFor(async () => (await meOn(peer, tokens.accessToken)) === null, "the access token to be refused on the other instance");
    expect(await marker(sid)).toBe("logout");
  });
});

describe("the marker sync at start", () => {
  it("writes the marker of a session revoked in Postgres whose marker is missing (a crash between the two writes)", async () => {
    const { tokens, sid } = await signUp();
    // As if an instance died after the row was updated and before the marker was written.
    await gw.db.db.prisma.session.update({ where: { id: sid }, data: { revokedAt: new Date(), revokedReason: "logout" } });
    expect(await marker(sid)).toBeNull();
    // Nothing failed on the running instances, so they trust Redis: the token still works.
    expect(await meOn(peer, tokens.accessToken)).not.toBeNull();

    const started = await startTestGateway({ peerOf: gw });
    try {
      await waitFor(async () => (await marker(sid)) === "logout", "the start sync to write the marker");
      expect(await meOn(peer, tokens.accessToken)).toBeNull();
      expect(await meOn(started, tokens.accessToken)).toBeNull();
    } finally {
      await started.close();
    }
  });
});
