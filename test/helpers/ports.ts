import { createServer, type AddressInfo, type Socket } from "node:net";

/**
 * A TCP port free on 127.0.0.1 right now, for a process that must be told its port up front.
 * Drawn from 10000–19999, below the kernel's ephemeral range (32768+): a port from there can
 * be taken meanwhile as the local end of any outgoing connection (a Postgres or Redis client),
 * and the process told it then fails with "already in use". (The test Redis Cluster draws
 * from 20000–29999.)
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 10_000);
    // Not yet listened on, so still free: never hand the same one out twice in a process.
    if (handedOut.has(port) || !(await isFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error("no free TCP port in 10000–19999 after 50 tries");
}

const handedOut = new Set<number>();

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A TCP server that accepts connections and never says a word: a hung Redis, a stuck SMTP server. */
export async function silentServer(): Promise<{ port: number; firstByte: Promise<number>; close: () => Promise<void> }> {
  const server = createServer();
  const sockets = new Set<Socket>();
  const firstByte = new Promise<number>((resolve) => {
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.once("data", (chunk: Buffer) => resolve(chunk[0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    firstByte,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
