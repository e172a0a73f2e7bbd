import type { IncomingMessage } from "node:http";
import ipaddr from "ipaddr.js";
import proxyaddr from "proxy-addr";
import type { ClientInfo } from "./ports";

/** IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d; store the plain address. */
export const plainIp = (ip: string | undefined | null): string | null => (ip ? ip.replace(/^::ffff:(?=\d+\.)/, "") : null);

/** Who is calling, as sessions and audit rows keep it: the plain IP and a bounded User-Agent. */
export function clientInfo(ip: string | undefined | null, userAgent: string | string[] | undefined): ClientInfo {
  return { ip: plainIp(ip), userAgent: typeof userAgent === "string" ? userAgent.slice(0, 512) : null };
}

/**
 * Which hops in front of the gateway are trusted to append to X-Forwarded-For, with
 * Express's `trust proxy` meaning: false (none: the socket's peer is the client), a hop
 * count, or a list of proxy addresses / CIDRs / `loopback`, `linklocal`, `uniquelocal`.
 */
export type TrustProxy = false | number | string[];

const compiled = new WeakMap<string[], (addr: string, i: number) => boolean>();

/** The same test Express compiles for `app.set("trust proxy", trust)`. */
function trustFn(trust: TrustProxy): (addr: string, i: number) => boolean {
  if (trust === false) return () => false;
  if (typeof trust === "number") return (_addr, i) => i < trust;
  let fn = compiled.get(trust);
  if (!fn) compiled.set(trust, (fn = proxyaddr.compile(trust)));
  return fn;
}

/**
 * The client's address for a request Express did not route (the WebSocket upgrade): the
 * right-most X-Forwarded-For entry not added by a trusted proxy, exactly as `req.ip` is
 * computed for HTTP. Entries the client wrote itself, to the left, are never believed.
 */
export function forwardedClientIp(req: IncomingMessage, trust: TrustProxy): string | null {
  if (!req.socket.remoteAddress) return null;
  return plainIp(proxyaddr(req, trustFn(trust)));
}

/**
 * The subject of a per-IP limit. One IPv6 host is usually given a whole /64, so IPv6
 * clients are counted per /64 (else rotating the low bits escapes every limit); IPv4
 * addresses stand alone. Sessions and audit rows keep the full address.
 */
export function ipLimitKey(ip: string | null): string {
  if (!ip) return "unknown";
  const addr = parsed(ip);
  if (!addr) return ip;
  if (addr.kind() === "ipv4") return addr.toString();
  return `${prefixOf(addr as ipaddr.IPv6, 4)}::/64`;
}

/**
 * The network a request came from, for counting distinct sources: the /24 of an IPv4
 * address, the /48 of an IPv6 one ("unknown" without an address). A /48 is what one site
 * is given (RFC 6177; many ISPs hand out a /56 inside it): its 65,536 /64s are one source.
 */
export function sourceBlock(ip: string | null): string {
  if (!ip) return "unknown";
  const addr = parsed(ip);
  if (!addr) return ip;
  if (addr.kind() === "ipv4") return `${(addr as ipaddr.IPv4).octets.slice(0, 3).join(".")}.0/24`;
  return `${prefixOf(addr as ipaddr.IPv6, 3)}::/48`;
}

function parsed(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(ip)) return null;
  const addr = ipaddr.parse(ip);
  return addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
}

const prefixOf = (addr: ipaddr.IPv6, hextets: number): string =>
  addr.parts
    .slice(0, hextets)
    .map((p) => p.toString(16))
    .join(":");
