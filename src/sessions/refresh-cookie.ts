import { parseCookie, stringifySetCookie } from "cookie";
import type { Request, Response } from "express";
import { GraphQLError } from "graphql";
import type { RefreshCookie } from "../core/auth";

/** The header a browser app sends on every GraphQL request to ask for cookie delivery. */
export const DELIVERY_HEADER = "x-refresh-token-delivery";
export const REFRESH_COOKIE = "refresh_token";
/** Over TLS: the prefix makes browsers refuse the cookie unless set Secure by an HTTPS origin. */
export const SECURE_REFRESH_COOKIE = `__Secure-${REFRESH_COOKIE}`;

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export interface RefreshCookieOptions {
  enabled: boolean;
  path: string;
  maxAgeSeconds: number;
  allowedOrigins: readonly string[];
}

/**
 * Cookie delivery for this request, or undefined when the gateway has it off or the client
 * did not ask (`X-Refresh-Token-Delivery: cookie`): native apps and services keep tokens in
 * the body. CSRF: the cookie is `SameSite=Strict`; it is only read when the custom header is
 * present (a cross-site page cannot send one without a CORS preflight, which only
 * ALLOWED_ORIGINS pass); and a request whose Origin is not allowed is refused outright.
 */
export function refreshCookieFor(req: Request, res: Response, options: RefreshCookieOptions): RefreshCookie | undefined {
  if (!options.enabled || req.headers[DELIVERY_HEADER] !== "cookie") return undefined;
  const origin = req.headers.origin;
  if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
    // Thrown while building the context: Apollo answers 403 with this code, running nothing.
    throw new GraphQLError("This origin may not use the refresh-token cookie.", { extensions: { code: "FORBIDDEN", http: { status: 403 } } });
  }
  // Browsers treat http://localhost as secure enough; anywhere else the cookie needs TLS.
  const secure = !LOCAL_HOSTS.has(req.hostname);
  const name = secure ? SECURE_REFRESH_COOKIE : REFRESH_COOKIE;
  const attributes = { httpOnly: true, sameSite: "strict" as const, secure, path: options.path };
  return {
    read: () => parseCookie(req.headers.cookie ?? "")[name] || undefined,
    set: (token) => void res.append("Set-Cookie", stringifySetCookie(name, token, { ...attributes, maxAge: options.maxAgeSeconds })),
    clear: () => void res.append("Set-Cookie", stringifySetCookie(name, "", { ...attributes, maxAge: 0 })),
  };
}
