import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

/**
 * A TCP proxy between the gateway and a real Redis or Postgres, to stage their failures:
 * `pass` forwards, `blackHole` is a partition (connections are accepted and kept, bytes
 * are held back, in order, until `pass`: nothing answers and nothing closes, as when
 * packets are dropped and TCP keeps retrying), `refuse` is the service down (connections
 * are cut and new ones refused).
 */
export interface TcpProxy {
  readonly port: number;
  /** `url` pointing at the proxy instead (its host and port replaced). */
  urlFor(url: string): string;
  pass(): Promise<void>;
  blackHole(): void;
  /**
   * Passes until a client sends bytes containing `match`, then black-holes from those bytes
   * on (a partition at an exact step); resolves once that happened.
   */
  blackHoleOn(match: string): Promise<void>;
  refuse(): Promise<void>;
  close(): Promise<void>;
}

/** One client connection and its upstream one; bytes wait in `held` while black-holed. */
class Link {
  private upstream?: Socket;
  private readonly held: { up: Buffer[]; down: Buffer[] } = { up: [], down: [] };
  private holding = true;

  constructor(
    private readonly client: Socket,
    private readonly target: { host: string; port: number },
    private readonly onClosed: () => void,
    /** Whether this chunk from the client starts a black hole (before it is forwarded). */
    private readonly holdsFrom: (chunk: Buffer) => boolean = () => false,
  ) {
    client.on("data", (chunk: Buffer) => {
      if (!this.holding && this.holdsFrom(chunk)) this.holding = true;
      if (this.holding || !this.upstream) this.held.up.push(chunk);
      else this.upstream.write(chunk);
    });
    client.on("error", () => this.destroy());
    client.on("close", () => this.destroy());
  }

  /** Connects upstream if not yet, delivers what was held, and forwards from now on. */
  release(): void {
    if (!this.upstream) {
      const upstream = createConnection(this.target);
      this.upstream = upstream;
      upstream.on("data", (chunk: Buffer) => (this.holding ? this.held.down.push(chunk) : this.client.write(chunk)));
      upstream.on("error", () => this.destroy());
      upstream.on("close", () => this.destroy());
    }
    for (const chunk of this.held.up.splice(0)) this.upstream.write(chunk);
    for (const chunk of this.held.down.splice(0)) this.client.write(chunk);
    this.holding = false;
  }

  hold(): void {
    this.holding = true;
  }

  destroy(): void {
    this.client.destroy();
    this.upstream?.destroy();
    this.onClosed();
  }
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const links = new Set<Link>();
  let mode: "pass" | "blackHole" | "refuse" = "pass";
  let port = 0;
  let server: Server | null = null;
  let trigger: { match: Buffer; tripped: () => void } | null = null;
  /** A client sent the trigger: every connection is held from here, that chunk included. */
  const holdsFrom = (chunk: Buffer): boolean => {
    if (!trigger || !chunk.includes(trigger.match)) return false;
    trigger.tripped();
    trigger = null;
    mode = "blackHole";
    for (const link of links) link.hold();
    return true;
  };

  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      const link = new Link(client, target, () => links.delete(link), holdsFrom);
      links.add(link);
      if (mode === "pass") link.release();
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const stopListening = async (): Promise<void> => {
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();

  return {
    get port() {
      return port;
    },
    urlFor(url) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    async pass() {
      mode = "pass";
      trigger = null;
      if (!server) await listen();
      for (const link of links) link.release();
    },
    blackHole() {
      mode = "blackHole";
      for (const link of links) link.hold();
    },
    blackHoleOn(match) {
      return new Promise<void>((tripped) => (trigger = { match: Buffer.from(match), tripped }));
    },
    async refuse() {
      mode = "refuse";
      // Not listening: a new connection is refused (ECONNREFUSED) by the kernel itself.
      const closing = stopListening();
      for (const link of [...links]) link.destroy();
      await closing;
    },
    async close() {
      const closing = stopListening();
      for (const link of [...links]) link.destroy();
      await closing;
    },
  };
}

/** Host and port of a `redis://` or `postgresql://` URL. */
export function hostAndPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || "127.0.0.1", port: Number(u.port || defaultPort) };
}
