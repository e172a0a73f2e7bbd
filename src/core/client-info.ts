import type { ClientInfo } from "./ports";

/** IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d; store the plain address. */
export const plainIp = (ip: string | undefined | null): string | null => (ip ? ip.replace(/^::ffff:(?=\d+\.)/, "") : null);

/** Who is calling, as sessions and audit rows keep it: the plain IP and a bounded User-Agent. */
export function clientInfo(ip: string | undefined | null, userAgent: string | string[] | undefined): ClientInfo {
  return { ip: plainIp(ip), userAgent: typeof userAgent === "string" ? userAgent.slice(0, 512) : null };
}
