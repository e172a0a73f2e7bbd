import WebSocket from "ws";
import { SignUpDocument } from "../__generated__/graphql";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

type Message = { type: string; id?: string; payload?: unknown };

/** A raw graphql-transport-ws socket, acknowledged, that records every message and how it closed. */
async function rawSocket(t: TestGateway, connectionParams: Record<string, unknown> = {}) {
  const socket = new WebSocket(t.url.replace("http", "ws") + "/graphql", "graphql-transport-ws");
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  socket.on("message", (data) => {
    messages.push(JSON.parse(String(data)) as Message);
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const until = async (found: (m: Message[]) => boolean) => {
    while (!found(messages)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const send = (m: Message) => socket.send(JSON.stringify(m));
  send({ type: "connection_init", payload: connectionParams });
  await until((m) => m.some((x) => x.type === "connection_ack"));
  return { socket, messages, closed, until, send };
}

describe("WebSocket errors", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it("an unparsable subscribe answers an error for its id; the connection and its other operations go on", async () => {
    const ws = await rawSocket(gw);
    ws.send({ id: "bad", type: "subscribe", payload: { query: "subscription {" } });
    ws.send({ id: "unknown", type: "subscribe", payload: { query: "subscription { nope }" } });
    ws.send({ id: "ok", type: "subscribe", payload: { query: "{ __typename }" } });
    await ws.until((m) => m.some((x) => x.id === "ok" && x.type === "complete"));
    await ws.until((m) => m.filter((x) => x.type === "error").length === 2);
    const codeOf = (id: string) => (ws.messages.find((x) => x.id === id && x.type === "error")!.payload as Array<{ extensions: { code: string } }>)[0].extensions.code;
    expect(codeOf("bad")).toBe("GRAPHQL_PARSE_FAILED");
    expect(codeOf("unknown")).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(ws.messages.find((x) => x.id === "ok" && x.type === "next")!.payload).toEqual({ data: { __typename: "Query" } });
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    ws.socket.close();
  });

  it("a subscribe the protocol forbids (no string query) closes with graphql-ws' own 4400, naming no internals", async () => {
    const ws = await rawSocket(gw);
    ws.send({ id: "x", type: "subscribe", payload: { query: 5 } });
    expect(await ws.closed).toEqual({ code: 4400, reason: "Invalid message received" });
  });
});

describe("WebSocket close reasons", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // A failure that is no outage, while authenticating a connection's operation.
    gw = await startTestGateway({
      override: (infra) => ({
        store: Object.assign(Object.create(infra.store), {
          get: (key: string) => (key.includes("session:revoked:") ? Promise.reject(new Error("internal detail: redis retry 7 at 10.0.0.3")) : infra.store.get(key)),
        }),
      }),
    });
  });
  afterAll(() => gw.close());

  it("are masked in every environment: an internal failure closes 4500 'Internal server error'", async () => {
    const signedUp = await gw.request(SignUpDocument, { input: { email: "ws-close@example.com", password: "correct horse battery" } });
    const ws = await rawSocket(gw, { authorization: `Bearer ${signedUp.data!.signUp.tokens!.accessToken}` });
    ws.send({ id: "me", type: "subscribe", payload: { query: "{ me { id } }" } });
    const closed = await ws.closed;
    expect(closed).toEqual({ code: 4500, reason: "Internal server error" });
  });
});
