import { z } from "zod";

/** zod types the settings sections share: every value arrives as a string from the environment. */

export const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes", "on"].includes(v)));

/** What `flag` reads as false: a rule about what was given can ask before parsing. */
export const isOff = (v: string | undefined) => ["false", "0", "no", "off"].includes(v ?? "");

export const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const commaList = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean));

// The value is never echoed: URLs carry passwords.
export const urlWith = (protocols: string[]) => {
  const schemes = protocols.map((p) => `${p}//`).join(" or ");
  return z
    .string()
    .superRefine((u, ctx) => {
      if (!URL.canParse(u)) ctx.addIssue({ code: "custom", message: `is not a URL: it must start with ${schemes}` });
      else if (!protocols.includes(new URL(u).protocol)) ctx.addIssue({ code: "custom", message: `must start with ${schemes}` });
    })
    .optional();
};

/** Names shown to people (an app, an authenticator's issuer): "<issuer>:<account>" labels forbid colons. */
export const displayName = z.string().min(1).max(60).refine((v) => !v.includes(":"), "must not contain a colon");

/**
 * REDIS_CLUSTER_NODES: a comma list of a Redis Cluster's nodes (a few are enough, the
 * rest are discovered), each `host:port`, or a `redis://`/`rediss://` URL when the
 * cluster needs TLS or a password. URLs must agree on scheme and credentials: the nodes
 * discovered later get the same. Passwords are never echoed.
 */
export const redisClusterNodes = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const entries = raw.split(",").map((s) => s.trim()).filter(Boolean);
    const bad = (message: string) => {
      ctx.addIssue({ code: "custom", message });
      return undefined;
    };
    if (entries.length === 0) return bad("must name at least one node, e.g. redis-1:6379,redis-2:6379");
    const urls = entries.filter((e) => /^[a-z][a-z\d+.-]*:\/\//i.test(e));
    if (urls.length > 0 && urls.length < entries.length) return bad("write every node the same way: all host:port, or all redis:// / rediss:// URLs");
    const parsed: URL[] = [];
    for (const [i, entry] of entries.entries()) {
      const url = urls.length ? entry : `redis://${entry}`;
      if (!URL.canParse(url)) return bad(`node #${i + 1} is not host:port or a redis:// URL`);
      const u = new URL(url);
      if (u.protocol !== "redis:" && u.protocol !== "rediss:") return bad(`node #${i + 1} must start with redis:// or rediss://`);
      if (!u.hostname || !/^\d*$/.test(u.port) || (!urls.length && !u.port)) return bad(`node #${i + 1} must be host:port, e.g. redis-1:6379`);
      // A cluster has database 0 only.
      if (!["", "/", "/0"].includes(u.pathname) || u.search || u.hash) return bad(`node #${i + 1} must not name a database, query or fragment (a cluster has database 0 only)`);
      parsed.push(u);
    }
    const [first] = parsed;
    if (parsed.some((u) => u.protocol !== first.protocol || u.username !== first.username || u.password !== first.password)) {
      return bad("every node URL must have the same scheme, user and password");
    }
    return {
      cluster: parsed.map((u) => ({ host: u.hostname.replace(/^\[(.*)\]$/, "$1"), port: u.port ? Number(u.port) : 6379 })),
      tls: first.protocol === "rediss:",
      ...(first.username && { username: decodeURIComponent(first.username) }),
      ...(first.password && { password: decodeURIComponent(first.password) }),
    };
  });
