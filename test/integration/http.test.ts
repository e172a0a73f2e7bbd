import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { ChangePasswordDocument, LoginDocument, MeDocument, SignUpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

let gw: TestGateway;
let failing: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { ALLOWED_ORIGINS: "https://app.example.test" } });
  failing = await startTestGateway({
    store: "memory",
    override: (infra) => ({
      readiness: { ...infra.readiness, redis: () => Promise.reject(new Error("connection refused")) },
      // The real repository, but reading a user by id fails the way a broken database would.
      users: Object.assign(Object.create(infra.users), {
        findById: () => Promise.reject(new Error('relation "users" failed: SELECT password_hash FROM users WHERE secret=42')),
      }),
    }),
  });
});
afterAll(async () => {
  await gw.close();
  await failing.close();
});

async function signedIn(t: TestGateway, email: string) {
  const r = await t.request(SignUpDocument, { input: { email, password: "correct horse battery" } });
  return r.data!.signUp.tokens!;
}

/** What /readyz says of the test database: a Postgres server answers "ok", embedded PGlite "embedded". */
const POSTGRES_READY = process.env.DATABASE_URL ? "ok" : "embedded";

describe("health", () => {
  it("/healthz answers 200 while the process is up", async () => {
    const res = await fetch(`${gw.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it("/readyz answers 200 when Postgres and Redis answer", async () => {
    const res = await fetch(`${gw.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready", checks: { postgres: POSTGRES_READY, redis: "ok" } });
  });

  it("/readyz answers 503 naming the dependency that does not answer", async () => {
    const res = await fetch(`${failing.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "unavailable", checks: { postgres: POSTGRES_READY, redis: "down" } });
  });
});

describe("caching", () => {
  it("answers /graphql with Cache-Control: no-store: tokens and account data are never cached", async () => {
    const signUp = await gw.request(SignUpDocument, { input: { email: "no-store@example.com", password: "correct horse battery" } });
    expect(signUp.headers.get("cache-control")).toBe("no-store");
    const me = await gw.request(MeDocument, {}, { token: signUp.data!.signUp.tokens!.accessToken });
    expect(me.headers.get("cache-control")).toBe("no-store");
  });
});

describe("errors", () => {
  it("masks unexpected errors: no SQL, no stack, no secrets; logged whole with the request id", async () => {
    const { accessToken } = await signedIn(failing, "masked@example.com");
    const r = await failing.request(MeDocument, {}, { token: accessToken, headers: { "x-request-id": "req-abc-123" } });
    expect(r.errors).toEqual([
      { message: "Something went wrong on our side.", locations: expect.any(Array), path: ["me"], extensions: { code: "INTERNAL_SERVER_ERROR" } },
    ]);
    expect(JSON.stringify(r)).not.toMatch(/SELECT|password_hash|secret|stack/i);
    expect(r.headers.get("x-request-id")).toBe("req-abc-123");
    const logged = failing.logs.find((l) => l.msg === "unexpected error");
    expect(logged).toMatchObject({ requestId: "req-abc-123", err: { message: expect.stringContaining("SELECT password_hash") } });
  });

  it("keeps graphql-js's own messages for malformed operations", async () => {
    const r = await gw.request("{ me { nope } }");
    expect(r.status).toBe(400);
    expect(errorCode(r)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.errors![0].message).toMatch(/nope/);
  });

  it("never writes passwords, tokens or authorization headers to the log", async () => {
    const { accessToken, refreshToken } = await signedIn(gw, "logs@example.com");
    await gw.request(LoginDocument, { input: { email: "logs@example.com", password: "correct horse battery" } });
    await gw.request(MeDocument, {}, { token: accessToken });
    // Refused (wrong current password), so the error path is logged too.
    await gw.request(ChangePasswordDocument, { input: { currentPassword: "not my password at all", newPassword: "a new secret passphrase" } }, { token: accessToken });
    const all = JSON.stringify(gw.logs);
    expect(gw.logs.length).toBeGreaterThan(0);
    expect(all).not.toContain("correct horse battery");
    expect(all).not.toContain("not my password at all");
    expect(all).not.toContain("a new secret passphrase");
    expect(all).not.toContain(accessToken);
    expect(all).not.toContain(refreshToken);
  });

  it("gives every response a request id", async () => {
    const res = await fetch(`${gw.url}/healthz`);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("CSRF and CORS", () => {
  it("blocks a simple (form-like) POST that a cross-site page could send", async () => {
    const res = await fetch(`${gw.url}/graphql`, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ query: "{ me { id } }" }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Cross-Site Request Forgery/);
  });

  it("serves queries over GET with a preflight-forcing header, never mutations", async () => {
    const q = encodeURIComponent("{ me { id } }");
    const ok = await fetch(`${gw.url}/graphql?query=${q}`, { headers: { "apollo-require-preflight": "true" } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { me: null } });
    const m = encodeURIComponent("mutation { logout }");
    const refused = await fetch(`${gw.url}/graphql?query=${m}`, { headers: { "apollo-require-preflight": "true" } });
    expect(refused.status).toBe(405);
  });

  it("allows the configured origins only", async () => {
    const preflight = (origin: string) =>
      fetch(`${gw.url}/graphql`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" } });
    expect((await preflight("https://app.example.test")).headers.get("access-control-allow-origin")).toBe("https://app.example.test");
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("WebSocket /graphql", () => {
  const wsUrl = () => gw.url.replace("http", "ws") + "/graphql";

  it("takes the access token from connectionParams.authorization", async () => {
    const { accessToken } = await signedIn(gw, "ws@example.com");
    const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${accessToken}` }, retryAttempts: 0 });
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query: "{ me { email } }" }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
      });
      expect(result).toEqual({ data: { me: { email: "ws@example.com" } } });
    } finally {
      await client.dispose();
    }
  });

  it("refuses a connection from an origin that is not allowed", async () => {
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(wsUrl(), "graphql-transport-ws", { origin: "https://evil.example" });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode));
      ws.on("open", () => {
        ws.close();
        resolve(undefined);
      });
    });
    expect(status).toBe(401);
  });

  it("answers a refused subscription with its contract error code", async () => {
    const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const outcome = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: 'subscription { magicLinkStatus(requestId: "00000000-0000-0000-0000-000000000000", listenToken: "y") { state } }' },
          { next: (v) => resolve(v), error: (e) => resolve({ error: e }), complete: () => resolve("complete") },
        );
      });
      expect(JSON.stringify(outcome)).toContain("INVALID_CODE");
    } finally {
      await client.dispose();
    }
  });
});

describe("batching and the development outbox", () => {
  it("refuses batched operations (one HTTP request cannot carry many guesses)", async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ query: "{ me { id } }" }, { query: "{ me { id } }" }]),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/batch/i);
  });

  it("serves the development outbox as JSON outside production", async () => {
    const res = await fetch(`${gw.url}/dev/outbox`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/json/);
    expect(Array.isArray(await res.json())).toBe(true);
  });
});
