import http from "node:http";
import type { AddressInfo } from "node:net";
import { buildSchema } from "graphql";
import WebSocket, { WebSocketServer } from "ws";
import { serveGraphqlWs } from "../../src/graphql-ws-transport";
import { loadSettings } from "../../src/config/settings";
import { startTestGateway } from "../helpers/gateway";
import { captureLogger } from "../helpers/log";

const schema = buildSchema("type Query { hello: String }");
const KEEP_ALIVE_MS = 150;

/** The transport alone on a real server and real sockets, with a short heartbeat. */
async function transport(hooks: { extraOf?: () => Record<string, unknown>; onConnect?: () => void } = {}) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: "/graphql" });
  const { log, lines } = captureLogger();
  const served = serveGraphqlWs(wss, { schema, roots: { query: { hello: () => "world" } }, onConnect: hooks.onConnect }, hooks.extraOf ?? (() => ({})), log, KEEP_ALIVE_MS);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    lines,
    connect: async (options: WebSocket.ClientOptions = {}) => {
      const socket = new WebSocket(url, "graphql-transport-ws", options);
      const messages: Array<{ type: string; id?: string; payload?: unknown }> = [];
      socket.on("message", (data) => messages.push(JSON.parse(String(data)) as never));
      const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
      return { socket, messages, closed };
    },
    close: async () => {
      await served.dispose();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe("graphql-ws transport", () => {
  it("speaks graphql-transport-ws: ack, then an operation's next and complete", async () => {
    const t = await transport();
    const c = await t.connect();
    c.socket.send(JSON.stringify({ type: "connection_init" }));
    await until(() => c.messages.some((m) => m.type === "connection_ack"));
    c.socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "{ hello }" } }));
    await until(() => c.messages.some((m) => m.type === "complete"));
    expect(c.messages).toEqual([{ type: "connection_ack" }, { id: "1", type: "next", payload: { data: { hello: "world" } } }, { id: "1", type: "complete" }]);
    c.socket.close();
    await t.close();
  });

  it("text that is not JSON closes 4400 'Invalid message received', as graphql-ws does", async () => {
    const t = await transport();
    const c = await t.connect();
    c.socket.send("{ not json");
    expect(await c.closed).toEqual({ code: 4400, reason: "Invalid message received" });
    // A message sent as a JSON string of JSON is no message either.
    const twice = await t.connect();
    twice.socket.send(JSON.stringify(JSON.stringify({ type: "connection_init" })));
    expect(await twice.closed).toEqual({ code: 4400, reason: "Invalid message received" });
    await t.close();
  });

  it("drops a socket that stops answering pings; one that answers stays", async () => {
    const t = await transport();
    const deaf = await t.connect({ autoPong: false });
    const answering = await t.connect();
    const pongs: number[] = [];
    answering.socket.on("ping", () => pongs.push(Date.now()));
    const closed = await deaf.closed;
    // Terminated, not closed: no close frame from the server.
    expect(closed.code).toBe(1006);
    expect(pongs.length).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 3 * KEEP_ALIVE_MS));
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    answering.socket.close();
    await t.close();
  });

  it("a failure while handling a message is logged and closes 4500 'Internal server error'", async () => {
    const t = await transport({
      onConnect: () => {
        throw new Error("hook failed at 10.0.0.3");
      },
    });
    const c = await t.connect();
    c.socket.send(JSON.stringify({ type: "connection_init" }));
    expect(await c.closed).toEqual({ code: 4500, reason: "Internal server error" });
    expect(t.lines.some((l) => l.includes("hook failed at 10.0.0.3"))).toBe(true);
    await t.close();
  });

  it("a failure while taking a connection is logged and closes it 4500; the server goes on", async () => {
    let fail = true;
    const t = await transport({
      extraOf: () => {
        if (fail) throw new Error("extra failed");
        return {};
      },
    });
    const c = await t.connect();
    expect(await c.closed).toEqual({ code: 4500, reason: "Internal server error" });
    expect(t.lines.some((l) => l.includes("extra failed"))).toBe(true);
    fail = false;
    const next = await t.connect();
    next.socket.send(JSON.stringify({ type: "connection_init" }));
    await until(() => next.messages.some((m) => m.type === "connection_ack"));
    next.socket.close();
    await t.close();
  });
});

describe("WS_KEEPALIVE_SECONDS", () => {
  it("is how often the gateway pings a waiting socket (the default of 25 s would send none within the test's wait)", async () => {
    const gw = await startTestGateway({ env: { WS_KEEPALIVE_SECONDS: "5" } });
    const socket = new WebSocket(`${gw.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    try {
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
      let pings = 0;
      socket.on("ping", () => pings++);
      await until(() => pings > 0, 9_000);
      expect(pings).toBe(1);
    } finally {
      socket.terminate();
      await gw.close();
    }
  }, 20_000);

  it("takes 5 to 300 seconds", () => {
    expect(loadSettings({}).graphql.keepAliveSeconds).toBe(25);
    expect(() => loadSettings({ WS_KEEPALIVE_SECONDS: "4" })).toThrow(/WS_KEEPALIVE_SECONDS/);
    expect(() => loadSettings({ WS_KEEPALIVE_SECONDS: "301" })).toThrow(/WS_KEEPALIVE_SECONDS/);
  });
});
