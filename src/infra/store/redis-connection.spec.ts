import net from "node:net";
import { closeRedis, connectRedis, requestTimeouts } from "./redis-connection";

/** A port with nothing listening: connections to it are refused. */
async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("connectRedis to a Redis Cluster", () => {
  it("fails a command within the command timeout while no node answers, instead of holding it in the cluster's queue", async () => {
    const port = await refusedPort();
    const cluster = connectRedis({ cluster: [{ host: "127.0.0.1", port }] }, requestTimeouts(200), () => {});
    try {
      await expect(cluster.get("k")).rejects.toThrow("Command timed out");
    } finally {
      await closeRedis(cluster).catch(() => {});
    }
  });
});
