import { generateKeyPairSync } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { SignUpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

/** `mutation { ...F0 }` where each fragment spreads the next twice: 2^levels spreads if walked naively. */
const doublingFragments = (levels: number, leaf = "logout") => {
  let doc = "mutation { ...F0 }";
  for (let i = 0; i < levels; i++) doc += ` fragment F${i} on Mutation { ...F${i + 1} ...F${i + 1} }`;
  return `${doc} fragment F${levels} on Mutation { ${leaf} }`;
};
const sixLogouts = Array.from({ length: 6 }, (_, i) => `l${i}: logout`).join(" ");
const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ")} }`;

type WsOutcome = { next?: unknown; error?: unknown; complete?: true };
/** One operation over a graphql-ws client: what it answered, first of next / error / complete. */
function wsRun(client: Client, query: string, variables?: Record<string, unknown>): Promise<WsOutcome> {
  return new Promise((resolve) => {
    client.subscribe({ query, variables }, { next: (v) => resolve({ next: v }), error: (e) => resolve({ error: e }), complete: () => resolve({ complete: true }) });
  });
}
const firstCode = (o: WsOutcome): unknown => {
  const errors = (o.error ?? (o.next as { errors?: unknown[] } | undefined)?.errors) as Array<{ extensions?: { code?: unknown } }> | undefined;
  return Array.isArray(errors) ? errors[0]?.extensions?.code : undefined;
};

let gw: TestGateway;
let sessionQueries = 0;
let ws: Client;
const wsUrl = (t: TestGateway) => t.url.replace("http", "ws") + "/graphql";
beforeAll(async () => {
  gw = await startTestGateway({
    env: { LOG_LEVEL: "debug", WS_MAX_SUBSCRIPTIONS_PER_IP: "3", WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: "3" },
    // The real repository, counting the queries that list a user's sessions.
    override: (infra) => ({
      sessions: Object.assign(Object.create(infra.sessions), {
        listActive: (...args: Parameters<typeof infra.sessions.listActive>) => {
          sessionQueries++;
          return infra.sessions.listActive(...args);
        },
      }),
    }),
  });
  ws = createClient({ url: wsUrl(gw), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
});
afterAll(async () => {
  await ws.dispose();
  await gw.close();
});

async function signedIn(email: string) {
  const r = await gw.request(SignUpDocument, { input: { email, password: "correct horse battery" } });
  return r.data!.signUp.tokens!.accessToken;
}

describe("operation limits (HTTP and WebSocket alike)", () => {
  it("checks fragments that double 40 levels deep at once, and runs their one mutation once", async () => {
    const r = await gw.request(doublingFragments(40));
    expect(r.errors!.map((e) => e.extensions!.code)).toEqual(["UNAUTHENTICATED"]);
    const outcome = await wsRun(ws, doublingFragments(40));
    expect(firstCode(outcome)).toBe("UNAUTHENTICATED");
  });

  it("refuses fragments that double 40 levels deep over too many mutations, over HTTP and WebSocket", async () => {
    const r = await gw.request(doublingFragments(40, sixLogouts));
    expect(r.status).toBe(400);
    expect(r.data).toBeUndefined();
    expect(r.errors!.map((e) => e.extensions!.code)).toEqual(["GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"]);
    expect(r.errors![1].message).toMatch(/at most 5 authentication mutations; this one holds 6/);
    const outcome = await wsRun(ws, doublingFragments(40, sixLogouts));
    expect(firstCode(outcome)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(outcome)).toMatch(/at most 5 authentication mutations/);
  });

  it("counts a fragment spread twice once, as execution runs it once", async () => {
    const r = await gw.request("mutation { ...F ...F } fragment F on Mutation { logout }");
    expect(errorCode(r)).toBe("UNAUTHENTICATED"); // ran: not refused as two mutations
  });

  it.each([
    ["too deep", `{ __type(name: "User") { ${"ofType { ".repeat(8)}name${" }".repeat(8)} } }`, /depth limit of 8/],
    ["too many aliases", aliases(16, "me { id }"), /Aliases limit of 15/],
    ["too many directives", `{ me ${"@include(if: true) ".repeat(11)}{ id } }`, /Directives limit of 10/],
  ])("refuses an operation %s with GRAPHQL_VALIDATION_FAILED, over HTTP and WebSocket", async (_what, query, message) => {
    const r = await gw.request(query);
    expect(r.status).toBe(400);
    expect(errorCode(r)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.errors![0].message).toMatch(message);
    const outcome = await wsRun(ws, query);
    expect(firstCode(outcome)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(outcome)).toMatch(message);
  });

  it("refuses a document over MAX_TOKENS while parsing, over HTTP and WebSocket", async () => {
    const query = `{ me { ${"id ".repeat(1000)}} }`;
    const r = await gw.request(query);
    expect(errorCode(r)).toBe("GRAPHQL_PARSE_FAILED");
    expect(r.errors![0].message).toMatch(/1000 tokens/);
    const outcome = await wsRun(ws, query);
    expect(firstCode(outcome)).toBe("GRAPHQL_PARSE_FAILED");
  });

  it("still serves introspection and the federation fields within the limits", async () => {
    const { getIntrospectionQuery } = await import("graphql");
    const intro = await gw.request(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    expect(intro.errors).toBeUndefined();
    const entities = await gw.request('{ _entities(representations: [{ __typename: "User", id: "nope" }]) { ... on User { id } } _service { sdl } }');
    expect(entities.errors).toBeUndefined();
  });
});

describe("query amplification", () => {
  it("refuses 2,000 aliases of a database field before anything runs", async () => {
    const token = await signedIn("amplify@example.com");
    sessionQueries = 0;
    const r = await gw.request(aliases(2000, "sessions { id }"), {}, { token });
    expect(r.status).toBe(400);
    expect(r.data).toBeUndefined();
    expect(errorCode(r)).toMatch(/^GRAPHQL_(PARSE|VALIDATION)_FAILED$/);
    const justOver = await gw.request(aliases(16, "sessions { id }"), {}, { token });
    expect(errorCode(justOver)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(sessionQueries).toBe(0);
  });

  it("answers aliases of `sessions` within the limit with one query", async () => {
    const token = await signedIn("batched@example.com");
    sessionQueries = 0;
    const r = await gw.request(aliases(15, "sessions { id current }"), {}, { token });
    expect(r.errors).toBeUndefined();
    expect(Object.values(r.data as Record<string, unknown[]>).every((s) => s.length === 1)).toBe(true);
    expect(sessionQueries).toBe(1);
  });
});

describe("WebSocket operation caps", () => {
  it("frees the slot of every refused operation: invalid ones never lock an address out", async () => {
    const client = createClient({ url: wsUrl(gw), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      for (let i = 0; i < 10; i++) expect(firstCode(await wsRun(client, "subscription { nope }"))).toBe("GRAPHQL_VALIDATION_FAILED");
      for (let i = 0; i < 5; i++) expect(firstCode(await wsRun(client, "{ me {"))).toBe("GRAPHQL_PARSE_FAILED");
      for (let i = 0; i < 5; i++) expect(firstCode(await wsRun(client, "query Q($n: String!) { __type(name: $n) { name } }", { n: 5 }))).toBe("BAD_USER_INPUT");
      expect(await wsRun(client, "{ __typename }")).toEqual({ next: { data: { __typename: "Query" } } });
    } finally {
      await client.dispose();
    }
  });

  it("frees an address's slots when its socket closes with live subscriptions", async () => {
    const link = async (i: number) =>
      (await gw.request(`mutation { requestMagicLink(input: { email: "cap-close${i}@example.com" }) { requestId listenToken } }`)).data as {
        requestMagicLink: { requestId: string; listenToken: string };
      };
    const status = "subscription S($r: ID!, $t: String!) { magicLinkStatus(requestId: $r, listenToken: $t) { state } }";
    const first = createClient({ url: wsUrl(gw), webSocketImpl: WebSocket, retryAttempts: 0 });
    const waiting: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const { requestId, listenToken } = (await link(i)).requestMagicLink;
      first.subscribe({ query: status, variables: { r: requestId, t: listenToken } }, { next: (v) => waiting.push(v), error: () => {}, complete: () => {} });
    }
    const { waitFor } = await import("../helpers/wait.js");
    await waitFor(() => waiting.length === 3, "three live subscriptions");
    const second = createClient({ url: wsUrl(gw), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const refused = await wsRun(second, "{ __typename }");
      expect(firstCode(refused)).toBe("RATE_LIMITED");
      // True: no slot frees before the longest operation (a link's status) ends.
      expect((refused.error as Array<{ extensions: { retryAfter: number } }>)[0].extensions.retryAfter).toBe(gw.settings.magicLink.ttlSeconds + 5);
      await first.dispose();
      const admitted = await waitFor(async () => {
        const o = await wsRun(second, "{ __typename }");
        return o.next ? o : undefined;
      }, "a slot freed by the closed socket");
      expect(admitted).toEqual({ next: { data: { __typename: "Query" } } });
    } finally {
      await second.dispose();
    }
  });
});

describe("errors: codes, echoes and the log", () => {
  it("never echoes a variable's value, over HTTP and WebSocket", async () => {
    const query = "mutation M($input: SignUpInput!) { signUp(input: $input) { __typename } }";
    const variables = { input: { email: "echo@example.com", password: { secret: "hunter2-do-not-echo" } } };
    const r = await gw.request(query, variables);
    expect(errorCode(r)).toBe("BAD_USER_INPUT");
    expect(r.errors![0].message).toMatch(/^Variable "\$input" got invalid value at "input.password"; Expected type "String"\.$/);
    const outcome = await wsRun(ws, query, variables);
    expect(firstCode(outcome)).toBe("BAD_USER_INPUT");
    expect(JSON.stringify(outcome)).toMatch(/input\.password/);
    expect(JSON.stringify([r, outcome, gw.logs])).not.toContain("hunter2-do-not-echo");
  });

  it("logs the client's mistakes at debug without a stack, never as unexpected errors", async () => {
    const before = gw.logs.length;
    const r = await gw.request(`{ ${Array.from({ length: 40 }, (_, i) => `nope${i}`).join(" ")} }`);
    expect(errorCode(r)).toBe("GRAPHQL_VALIDATION_FAILED");
    await wsRun(ws, "{ nope }");
    const lines = gw.logs.slice(before);
    expect(lines.some((l) => l.msg === "operation refused" && l.level === "debug")).toBe(true);
    expect(lines.filter((l) => ["error", "fatal"].includes(l.level as string))).toEqual([]);
    expect(JSON.stringify(lines)).not.toMatch(/"stack"/);
  });

  it("does not hand per-resolver timings to whoever asks for a federation trace", async () => {
    const r = await gw.request("{ __typename }", {}, { headers: { "apollo-federation-include-trace": "ftv1" } });
    expect(r.data).toEqual({ __typename: "Query" });
    expect(r).not.toHaveProperty("extensions.ftv1");
  });
});

describe("in production", () => {
  let prod: TestGateway;
  const secret = "a-federation-secret-of-32-chars!!";
  beforeAll(async () => {
    const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    prod = await startTestGateway({
      env: {
        NODE_ENV: "production",
        PUBLIC_URL: "https://auth.example.test",
        DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
        REDIS_URL: process.env.REDIS_URL!,
        SMTP_URL: "smtp://127.0.0.1:1",
        SMS_ENABLED: "false",
        JWT_PRIVATE_KEY: pem,
        FEDERATION_SECRET: secret,
      },
    });
  });
  afterAll(() => prod.close());

  it("answers no introspection, over HTTP or WebSocket", async () => {
    const r = await prod.request("{ __schema { types { name } } }");
    expect(errorCode(r)).toBe("GRAPHQL_VALIDATION_FAILED");
    const client = createClient({ url: wsUrl(prod), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const outcome = await wsRun(client, "{ __type(name: \"User\") { name } }");
      expect(firstCode(outcome)).toBe("GRAPHQL_VALIDATION_FAILED");
    } finally {
      await client.dispose();
    }
  });

  it("suggests no field names", async () => {
    const r = await prod.request("{ mee { id } }");
    expect(errorCode(r)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.errors![0].message).toBe('Cannot query field "mee" on type "Query".');
  });

  it("serves _service and _entities only to a caller with the federation secret", async () => {
    const service = "{ _service { sdl } }";
    const entities = '{ _entities(representations: [{ __typename: "User", id: "x" }]) { __typename } }';
    for (const query of [service, entities]) {
      const stranger = await prod.request(query);
      expect(errorCode(stranger)).toBe("FORBIDDEN");
      expect(JSON.stringify(stranger)).not.toMatch(/@key/);
      const wrong = await prod.request(query, {}, { headers: { "x-federation-secret": secret.replace("a", "b") } });
      expect(errorCode(wrong)).toBe("FORBIDDEN");
    }
    expect((await prod.request(entities, {}, { headers: { "x-federation-secret": secret } })).data).toEqual({ _entities: [null] });
    const router = await prod.request<{ _service: { sdl: string } }, unknown>(service, {}, { headers: { "x-federation-secret": secret } });
    expect(router.errors).toBeUndefined();
    expect(router.data!._service.sdl).toMatch(/@key/);
  });
});
