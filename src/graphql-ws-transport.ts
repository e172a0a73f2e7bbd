import type http from "node:http";
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from "graphql-ws";
import type { WebSocket, WebSocketServer } from "ws";
import type { Logger } from "./infra/log/logger";

/**
 * graphql-ws's protocol server (makeServer) on `ws` sockets, as graphql-ws/use/ws wires it,
 * but holding less for each device that waits: use/ws hands every message to the protocol
 * as text from an async listener, so a subscribe's frame buffer and its text stay referenced
 * for as long as the subscription lives (~1.7 KiB each). Here a message is parsed first
 * and only the parsed message goes on (graphql-ws validates a parsed message as it is), and
 * one heartbeat timer serves every socket instead of one interval per socket.
 * Failures are logged and close 4500 "Internal server error", as use/ws does with isProd.
 */
export function serveGraphqlWs<P extends Record<string, unknown> | undefined, E extends Record<PropertyKey, unknown>>(
  wss: WebSocketServer,
  /** graphql-ws's options; not jsonMessageReviver (messages are parsed here). */
  options: Omit<ServerOptions<P, E>, "jsonMessageReviver">,
  extraOf: (socket: WebSocket, request: http.IncomingMessage) => E,
  log: Logger,
  /** How often every socket is pinged; one that has not answered the last ping by then is dropped. */
  keepAliveMs: number,
) {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  const internalError = (socket: WebSocket, err: unknown, what: string) => {
    log.error({ err }, what);
    socket.close(CloseCode.InternalServerError, "Internal server error");
  };
  wss.once("error", (err) => {
    log.error({ err }, "WebSocket server error");
    for (const socket of wss.clients) socket.close(CloseCode.InternalServerError, "Internal server error");
  });

  // Answered the last ping (or connected since): a socket missing from here at a tick is gone.
  const alive = new WeakSet<WebSocket>();
  function answered(this: WebSocket) {
    alive.add(this);
  }
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!alive.delete(socket)) socket.terminate();
      else if (socket.readyState === socket.OPEN) socket.ping();
    }
  }, keepAliveMs);
  heartbeat.unref();

  wss.on("connection", (socket, request) => {
    try {
      accept(socket, request);
    } catch (err) {
      internalError(socket, err, "WebSocket connection not taken");
    }
  });

  function accept(socket: WebSocket, request: http.IncomingMessage): void {
    alive.add(socket);
    socket.on("pong", answered);
    socket.once("error", (err) => {
      // ws refused the client's frame (over maxPayload, bad UTF-8, a bad opcode) and closes
      // with the code RFC 6455 gives it (1009, 1007, 1002): the client's mistake, no incident.
      const code = (err as { code?: unknown }).code;
      if (typeof code === "string" && code.startsWith("WS_ERR_")) log.info({ code, reason: err.message }, "WebSocket closed: the client sent a frame it may not");
      else internalError(socket, err, "WebSocket socket error");
    });
    let handle: ((message: string) => Promise<void>) | undefined;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) => (handle = cb),
      },
      extraOf(socket, request),
    );
    // Not async: the frame is let go once parsed, whatever the operation then awaits.
    socket.on("message", (data) => {
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        message = undefined;
      }
      // An object or nothing: a JSON string would be parsed again by graphql-ws.
      if (typeof message !== "object" || message === null || Array.isArray(message)) return socket.close(CloseCode.BadRequest, "Invalid message received");
      handle?.(message as unknown as string).catch((err: unknown) => internalError(socket, err, "WebSocket message handling failed"));
    });
    socket.once("close", (code, reason) => {
      closed(code, String(reason)).catch((err: unknown) => log.error({ err }, "WebSocket close handling failed"));
    });
  }

  return {
    dispose: async () => {
      clearInterval(heartbeat);
      for (const socket of wss.clients) socket.close(1001, "Going away");
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
