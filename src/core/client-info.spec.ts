import type { IncomingMessage } from "node:http";
import { forwardedClientIp, ipLimitKey, sourceBlock } from "./client-info";

const upgrade = (peer: string, xff?: string) =>
  ({ socket: { remoteAddress: peer }, connection: { remoteAddress: peer }, headers: xff === undefined ? {} : { "x-forwarded-for": xff } }) as unknown as IncomingMessage;

describe("forwardedClientIp", () => {
  it("believes no header when no proxy is trusted", () => {
    expect(forwardedClientIp(upgrade("::ffff:198.51.100.7", "6.6.6.6"), false)).toBe("198.51.100.7");
  });

  it("with one trusted hop takes the entry that proxy appended, not what the client wrote before it", () => {
    expect(forwardedClientIp(upgrade("10.0.0.5", "6.6.6.6, 198.51.100.7"), 1)).toBe("198.51.100.7");
    expect(forwardedClientIp(upgrade("10.0.0.5", "198.51.100.7"), 1)).toBe("198.51.100.7");
  });

  it("with a proxy list stops at the first address that is not a listed proxy", () => {
    const trust = ["loopback", "10.0.0.0/8"];
    expect(forwardedClientIp(upgrade("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3"), trust)).toBe("198.51.100.7");
    // A peer that is not a listed proxy is the client, whatever it claims.
    expect(forwardedClientIp(upgrade("203.0.113.9", "6.6.6.6"), trust)).toBe("203.0.113.9");
  });
});

describe("ipLimitKey", () => {
  it("keys IPv6 clients on their /64, which one host usually owns", () => {
    expect(ipLimitKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(ipLimitKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(ipLimitKey("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
  });

  it("keeps IPv4 addresses whole, mapped or not", () => {
    expect(ipLimitKey("198.51.100.7")).toBe("198.51.100.7");
    expect(ipLimitKey("::ffff:198.51.100.7")).toBe("198.51.100.7");
  });

  it("names a missing address", () => {
    expect(ipLimitKey(null)).toBe("unknown");
  });
});

describe("sourceBlock", () => {
  it("is the /24 of an IPv4 address and the /48 of an IPv6 one (one site's, all its /64s)", () => {
    expect(sourceBlock("198.51.100.7")).toBe("198.51.100.0/24");
    expect(sourceBlock("::ffff:198.51.100.200")).toBe("198.51.100.0/24");
    expect(sourceBlock("2001:db8:1:2::abcd")).toBe("2001:db8:1::/48");
    expect(sourceBlock("2001:db8:1:ff00::1")).toBe("2001:db8:1::/48");
    expect(sourceBlock(null)).toBe("unknown");
  });
});
