import { createServer, type AddressInfo, type Socket } from "node:net";

/** A TCP port free on 127.0.0.1 right now, for a process that must be told its port up front. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
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
