import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { waitFor } from "../helpers/wait";
import { SignUpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";

type WsOutcome = { next?: { errors?: unknown[] }; error?: unknown; complete?: true };
function wsRun(client: Client, query: string, variables?: Record<string, unknown>): Promise<WsOutcome> {
  return new Promise((resolve) => {
    client.subscribe({ query, variables }, { next: (v) => resolve({ next: v as WsOutcome["next"] }), error: (e) => resolve({ error: e }), complete: () => resolve({ complete: true }) });
  });
}
const wsCode = (o: WsOutcome): unknown => {
  const errors = (o.error ?? o.next?.errors) as Array<{ extensions?: { code?: unknown } }> | undefined;
  return Array.isArray(errors) ? errors[0]?.extensions?.code : undefined;
};

/** POSTs a raw JSON body to /graphql (for extensions a typed helper would not send). */
async function postRaw(t: TestGateway, body: unknown) {
  const res = await fetch(`${t.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, ...((await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }) };
}

let gw: TestGateway;
let ws: Client;
let token: string;
beforeAll(async () => {
  gw = await startTestGateway({ env: { LOG_LEVEL: "debug" } });
  const r = await gw.request(SignUpDocument, { input: { email: "bad-input@example.com", password: "correct horse battery" } });
  token = r.data!.signUp.tokens!.accessToken;
  ws = createClient({ url: gw.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${token}` } });
});
afterAll(async () => {
  await ws.dispose();
  await gw.close();
});
// None of these is an incident: nothing at error level.
let logsBefore = 0;
beforeEach(() => {
  logsBefore = gw.logs.length;
});
afterEach(() => {
  expect(gw.logs.slice(logsBefore).filter((l) => ["error", "fatal"].includes(l.level as string)).map((l) => l.msg)).toEqual([]);
});

describe("the client's mistakes answer the client's codes, not INTERNAL_SERVER_ERROR", () => {
  it("revokeSession with an id that is not a UUID answers like an unknown session", async () => {
    const malformed = await gw.request(`mutation { revokeSession(id: "not-a-uuid") }`, undefined, { token });
    const unknown = await gw.request(`mutation { revokeSession(id: "00000000-0000-4000-8000-000000000000") }`, undefined, { token });
    expect(malformed.errors).toEqual(unknown.errors);
    expect(errorCode(malformed)).toBe("BAD_USER_INPUT");
    expect(malformed.errors![0].extensions!.field).toBe("id");
  });

  it("_entities with an unknown __typename, none, or a User without a usable id", async () => {
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }`;
    for (const representation of [{ __typename: "Nope", id: "x" }, { __typename: "Query" }, { id: "x" }]) {
      const r = await gw.request(entities, { r: [representation] });
      expect(errorCode(r)).toBe("BAD_USER_INPUT");
    }
    for (const representation of [{ __typename: "User" }, { __typename: "User", id: 5 }, { __typename: "User", id: "not-a-uuid" }]) {
      const r = await gw.request<{ _entities: unknown[] }, object>(entities, { r: [representation] });
      expect(r.errors).toBeUndefined();
      expect(r.data!._entities).toEqual([null]);
    }
  });

  it("malformed persisted-query extensions answer Apollo's codes or BAD_REQUEST", async () => {
    const bodies = [
      { query: "{ __typename }", extensions: { persistedQuery: "x" } },
      { query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: "not-the-hash" } } },
      { query: "{ __typename }", extensions: { persistedQuery: { version: 2, sha256Hash: "abc" } } },
      { extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } },
      { extensions: { persistedQuery: { version: 1 } } },
    ];
    for (const body of bodies) {
      const r = await postRaw(gw, body);
      // The APQ protocol answers PERSISTED_QUERY_NOT_FOUND with 200 (the client then sends the text).
      expect(r.status).toBeLessThan(500);
      expect(r.errors![0].extensions!.code).toMatch(/^(PERSISTED_QUERY_\w+|BAD_REQUEST)$/);
    }
  });

  it("variables of the wrong type over WebSocket answer BAD_USER_INPUT without echoing the value", async () => {
    const o = await wsRun(ws, `mutation($i: SignUpInput!) { signUp(input: $i) { status } }`, { i: { email: ["secret-value"], password: "secret-value" } });
    expect(wsCode(o)).toBe("BAD_USER_INPUT");
    expect(JSON.stringify(o)).not.toContain("secret-value");
  });

  it("a variable with thousands of bad items or unknown fields answers its first error only, over HTTP and WebSocket", async () => {
    // graphql-js reports every bad item and field (each with its own errors and suggestions): ~0.35 s of CPU for 50 KB of nulls.
    // Both under the WebSocket's 64 KB message limit.
    const nulls = { query: `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`, variables: { r: Array.from({ length: 10_000 }, () => null) } };
    const unknown = { query: `mutation($i: LoginInput!) { login(input: $i) { status } }`, variables: { i: Object.fromEntries(Array.from({ length: 5_000 }, (_, k) => [`f${k}`, 1])) } };
    for (const { query, variables } of [nulls, unknown]) {
      const overHttp = await gw.request(query, variables);
      expect(errorCode(overHttp)).toBe("BAD_USER_INPUT");
      expect(overHttp.errors).toHaveLength(1);
      const overWs = await wsRun(ws, query, variables);
      expect(wsCode(overWs)).toBe("BAD_USER_INPUT");
      expect(JSON.stringify(overWs).match(/BAD_USER_INPUT/g)).toHaveLength(1);
    }
  });

  it("a WebSocket message over 64 KB closes the socket with 1009 (message too big), logged as the client's mistake", async () => {
    const socket = new WebSocket(gw.url.replace("http", "ws") + "/graphql", "graphql-transport-ws");
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.send(JSON.stringify({ type: "connection_init", payload: { pad: "x".repeat(70 * 1024) } }));
    expect(await closed).toBe(1009);
    await waitFor(() => gw.logs.some((l) => l.msg === "WebSocket closed: the client sent a frame it may not" && l.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"), "the log line");
  });

  it("a query nested 5,000 levels is refused by MAX_TOKENS over HTTP and WebSocket", async () => {
    const deep = `${"{ me ".repeat(5000)}${"}".repeat(5000)}`;
    expect(errorCode(await gw.request(deep))).toBe("GRAPHQL_PARSE_FAILED");
    expect(wsCode(await wsRun(ws, deep))).toBe("GRAPHQL_PARSE_FAILED");
  });
});
