import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, exportJWK, jwtVerify, type RemoteJWKSetOptions } from "jose";
import { LoginDocument, MeDocument, SignUpDocument } from "../__generated__/graphql";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

/**
 * Rotating the signing key as a service sees it: the service knows the gateway only by its
 * JWKS URL and verifies with jose. Each step restarts the gateway (same database) with new
 * JWT_PRIVATE_KEY / JWT_ADDITIONAL_PUBLIC_KEYS, as an operator would.
 */

const ISSUER = "https://auth.example.test";
const ACCESS_TOKEN = { issuer: ISSUER, audience: "graphql", algorithms: ["ES256"], typ: "at+jwt" };
const PASSWORD = "correct horse battery";
// A verifier that caches the key set as long as the gateway's Cache-Control (max-age=300) allows.
const CACHING: RemoteJWKSetOptions = { cooldownDuration: 300_000, cacheMaxAge: 300_000 };

async function newKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    privatePem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    publicPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    // The kid the gateway publishes is the RFC 7638 thumbprint: anyone can compute it from the public key.
    kid: await calculateJwkThumbprint(await exportJWK(publicKey)),
  };
}

/** The one JWKS URL a service is configured with, in front of whichever gateway instance is current. */
async function startJwksFront() {
  let upstream = "";
  let fetches = 0;
  const server = http.createServer((_req, res) => {
    fetches++;
    fetch(`${upstream}/.well-known/jwks.json`).then(
      async (r) => res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text()),
      () => res.writeHead(502).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    pointAt: (gatewayUrl: string) => void (upstream = gatewayUrl),
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let db: TestDatabase;
let front: Awaited<ReturnType<typeof startJwksFront>>;
let gw: TestGateway | undefined;
let key1: Awaited<ReturnType<typeof newKeyPair>>;
let key2: Awaited<ReturnType<typeof newKeyPair>>;

/** Stops the running instance and starts the next with these keys, on the same database. */
async function restartWith(env: { JWT_PRIVATE_KEY: string; JWT_ADDITIONAL_PUBLIC_KEYS?: string }): Promise<TestGateway> {
  await gw?.close();
  gw = await startTestGateway({ db, env: { PUBLIC_URL: ISSUER, ...env } });
  front.pointAt(gw.url);
  return gw;
}

const jwksOf = (g: TestGateway) => createRemoteJWKSet(new URL(`${g.url}/.well-known/jwks.json`));
const publishedKids = async (g: TestGateway) =>
  ((await (await fetch(`${g.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
const meId = async (g: TestGateway, token: string) => (await g.request(MeDocument, {}, { token })).data!.me?.id ?? null;
const login = async (g: TestGateway, email: string) =>
  (await g.request(LoginDocument, { input: { email, password: PASSWORD } })).data!.login.tokens!.accessToken;

beforeAll(async () => {
  [db, front, key1, key2] = await Promise.all([createTestDatabase(), startJwksFront(), newKeyPair(), newKeyPair()]);
});

afterAll(async () => {
  await gw?.close();
  await front?.close();
  await db?.cleanup();
});

describe("signing key rotation, verified with the JWKS URL only", () => {
  const email = "rotation@example.com";
  let userId: string;
  /** T1: an access token signed with key1 before the rotation. */
  let t1: string;
  /** T2: an access token signed with key2 after the switch. */
  let t2: string;
  /** A service that fetched the key set before the rotation began. */
  let cachedBeforeRotation: ReturnType<typeof createRemoteJWKSet>;
  /** A service that fetched the key set after the next key was published. */
  let cachedAfterPublish: ReturnType<typeof createRemoteJWKSet>;

  it("before: gateway A signs with key1 only, and T1 verifies against its JWKS", async () => {
    const a = await restartWith({ JWT_PRIVATE_KEY: key1.privatePem });
    const signUp = (await a.request(SignUpDocument, { input: { email, password: PASSWORD } })).data!.signUp;
    [userId, t1] = [signUp.user!.id, signUp.tokens!.accessToken];

    expect(await publishedKids(a)).toEqual([key1.kid]);
    expect(decodeProtectedHeader(t1).kid).toBe(key1.kid);
    expect((await jwtVerify(t1, jwksOf(a), ACCESS_TOKEN)).payload.sub).toBe(userId);
    cachedBeforeRotation = createRemoteJWKSet(front.url, CACHING);
    await jwtVerify(t1, cachedBeforeRotation, ACCESS_TOKEN);
  });

  it("step 1, publish the next key: B signs with key1 and lists key2 too; T1 still verifies", async () => {
    const b = await restartWith({ JWT_PRIVATE_KEY: key1.privatePem, JWT_ADDITIONAL_PUBLIC_KEYS: key2.publicPem });

    expect(await publishedKids(b)).toEqual([key1.kid, key2.kid]);
    expect((await jwtVerify(t1, jwksOf(b), ACCESS_TOKEN)).payload.sub).toBe(userId);
    expect(decodeProtectedHeader(await login(b, email)).kid).toBe(key1.kid);
    expect(await meId(b, t1)).toBe(userId);
    cachedAfterPublish = createRemoteJWKSet(front.url, CACHING);
    await jwtVerify(t1, cachedAfterPublish, ACCESS_TOKEN);
  });

  it("step 2, switch: C signs with key2 and still lists key1; T1 verifies and C accepts it", async () => {
    const c = await restartWith({ JWT_PRIVATE_KEY: key2.privatePem, JWT_ADDITIONAL_PUBLIC_KEYS: key1.publicPem });
    t2 = await login(c, email);

    expect(await publishedKids(c)).toEqual([key2.kid, key1.kid]);
    expect(decodeProtectedHeader(t2).kid).toBe(key2.kid);
    expect((await jwtVerify(t1, jwksOf(c), ACCESS_TOKEN)).payload.sub).toBe(userId);
    expect((await jwtVerify(t2, jwksOf(c), ACCESS_TOKEN)).payload.sub).toBe(userId);
    expect(await meId(c, t1)).toBe(userId);
    expect(await meId(c, t2)).toBe(userId);
  });

  it("why publish first: a key set cached after publishing verifies new tokens without a fetch; one cached before does not", async () => {
    const fetchesBefore = front.fetches();
    expect((await jwtVerify(t2, cachedAfterPublish, ACCESS_TOKEN)).payload.sub).toBe(userId);
    expect(front.fetches()).toBe(fetchesBefore);
    // Within its cache time this service does not fetch again, so it refuses the new kid
    // until its cache expires: hence, publish, wait out the JWKS max-age, then switch.
    await expect(jwtVerify(t2, cachedBeforeRotation, ACCESS_TOKEN)).rejects.toMatchObject({ code: "ERR_JWKS_NO_MATCHING_KEY" });
  });

  it("step 3, retire: D signs with key2 only; T1 is refused by D and no longer verifies", async () => {
    // Retire only once every key1 token has expired; T1 lives 15 minutes at most.
    const { payload } = await jwtVerify(t1, jwksOf(gw!), ACCESS_TOKEN);
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(15 * 60);
    const d = await restartWith({ JWT_PRIVATE_KEY: key2.privatePem });

    expect(await publishedKids(d)).toEqual([key2.kid]);
    expect(await meId(d, t1)).toBeNull();
    await expect(jwtVerify(t1, jwksOf(d), ACCESS_TOKEN)).rejects.toMatchObject({ code: "ERR_JWKS_NO_MATCHING_KEY" });
    expect(await meId(d, t2)).toBe(userId);
    expect((await jwtVerify(t2, jwksOf(d), ACCESS_TOKEN)).payload.sub).toBe(userId);
  });
});
