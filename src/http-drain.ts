import type http from "node:http";

export interface HttpDrain {
  /** The server's request listener: `app` behind the drain's checks. */
  readonly listener: http.RequestListener;
  readonly draining: boolean;
  /** From now on every answer says `Connection: close`: keep-alive clients move off after it. */
  begin(): void;
  /**
   * Stops accepting, lets every request already read finish and flush, then resolves once
   * every connection is closed; past `graceMs` whatever is left is cut.
   */
  close(server: http.Server, graceMs: number): Promise<void>;
}

/**
 * A shutdown that loses no answer. Apollo's drain plugin half-closes idle keep-alive sockets
 * (`socket.end()`), yet Node still reads a request that was on its way on one of them: it runs
 * (a session created), and its answer meets a closed socket (the client sees ECONNRESET).
 * Here a socket is only ever closed after an answer that said `Connection: close`, or
 * destroyed while idle (Node's `server.close()`), when a request on its way was never read,
 * never ran, and the client's agent may safely send it again elsewhere.
 */
export function httpDrain(app: http.RequestListener): HttpDrain {
  let draining = false;
  // Answers whose headers are not sent yet still get `Connection: close` when draining begins.
  const open = new Set<http.ServerResponse>();
  const closeAfter = (res: http.ServerResponse) => {
    if (!res.headersSent) res.setHeader("Connection", "close");
  };
  return {
    listener(req, res) {
      if (draining) {
        // Read from a socket already closing after its last answer: it could never be answered.
        if (req.socket.writableEnded || req.socket.destroyed) {
          req.socket.destroy();
          return;
        }
        closeAfter(res);
      }
      open.add(res);
      res.once("close", () => open.delete(res));
      // An answer sent keep-alive before draining began: close its socket once it is flushed.
      res.once("finish", () => {
        if (draining && !req.socket.writableEnded) req.socket.destroySoon();
      });
      app(req, res);
    },
    get draining() {
      return draining;
    },
    begin() {
      draining = true;
      for (const res of open) closeAfter(res);
    },
    async close(server, graceMs) {
      this.begin();
      // Node ≥ 19: close() also destroys the idle keep-alive connections at once.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(cut);
    },
  };
}
