import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from "express";
import { AuthError } from "../../core/errors";
import { clientInfo } from "../../core/client-info";
import { escapeHtml as esc } from "../../core/text";
import type { LinkRequest } from "./magic-link.store";
import type { MagicLinkService } from "./magic-link.service";


/**
 * A readable browser name from a User-Agent, for "requested from Firefox on Linux". Only
 * names from this list, never the header's own text: whoever asked for the link wrote it,
 * and this page is where its owner decides (a User-Agent "type 37 below" is a phishing line).
 */
export function describeBrowser(ua: string | null): string {
  if (!ua) return "an unknown browser";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "an unknown browser";
  const os = /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : null;
  return os ? `${browser} on ${os}` : browser;
}

/** The asking device's address as shown: an IP address, or "unknown" (never other text). */
const shownIp = (ip: string | null): string => (ip && isIP(ip) ? ip : "unknown");

/**
 * The link's page: server-rendered, no external assets, no script, a strict CSP. A GET
 * only marks the request OPENED (mail scanners fetch links); the person's click POSTs the
 * form, which consumes the link. The token stays out of Referer headers and caches.
 */
export function magicLinkPage(links: MagicLinkService, appName: string, allowedOrigins: readonly string[], ownOrigin: string): Router {
  const router = express.Router();
  const trustedOrigins = new Set([ownOrigin, ...allowedOrigins]);
  // Browsers apply form-action to the redirect that follows the POST: the app's origins
  // (where redirectUrl may point) must be listed, or the device that opened the link stays here.
  const formAction = ["'self'", ...allowedOrigins].join(" ");
  const send = (res: Response, status: number, body: { html: string; nonce: string }) => sendPage(res, status, body, formAction);
  router.use(express.urlencoded({ extended: false, limit: "4kb" }));

  router.get("/", async (req, res) => {
    const token = typeof req.query.token === "string" ? req.query.token : "";
    try {
      const request = await links.open(token);
      send(res, 200, confirmForm(appName, token, request));
    } catch (e) {
      send(res, e instanceof AuthError ? 410 : 500, message(appName, "This link can't be used", failure(e)));
    }
  });

  router.post("/", async (req, res) => {
    if (crossSite(req, trustedOrigins)) {
      send(res, 403, message(appName, "This sign-in can't be used here", "Open the link from your email in your browser and use the buttons on its page."));
      return;
    }
    // Only the page's own form is read: any other body (JSON, text, none) leaves these empty.
    const { token, matchCode, action } = formFields(req.body, ["token", "matchCode", "action"]);
    if (!token) {
      send(res, 400, message(appName, "This link can't be used", "Open the link from your email again."));
      return;
    }
    const client = clientInfo(req.ip, req.headers["user-agent"]);
    try {
      if (action === "deny") {
        await links.deny(token, client);
        send(res, 200, message(appName, "Sign-in refused", "Nobody was signed in. If you did not ask for this link, you can ignore it."));
        return;
      }
      if (action === "confirm" && !matchCode.trim()) {
        send(res, 400, confirmForm(appName, token, await links.open(token), "Enter the number shown on your other device."));
        return;
      }
      // Which buttons the page offered depends on the request: read it before using the link.
      const request = await links.peek(token);
      if (!request.redirectUrl) {
        // No redirectUrl: this device's tokens would go nowhere, so "sign in here" is not offered
        // and a hand-made POST for it is refused, with the link still unused.
        if (action !== "confirm") {
          // open: an expired or used link answers so, rather than with the form.
          send(res, 400, confirmForm(appName, token, await links.open(token), "This link can only sign in the device that asked for it: enter the number shown there."));
          return;
        }
        const waiting = await links.confirmWaitingDevice({ token, matchCode }, client);
        send(
          res,
          200,
          waiting.status === "MFA_REQUIRED"
            ? message(appName, "Continue on your other device", "It asks for your second factor next. This device was not signed in; you can close this page.")
            : message(appName, "Your other device is signed in", "This device was not signed in. You can close this page."),
        );
        return;
      }
      const result = await links.consume({ token, matchCode: action === "confirm" ? matchCode : null }, client);
      // The client's state rides along, so the app can refuse tokens from a link it did not ask for.
      const params = new URLSearchParams(fragment(result));
      if (result.clientState !== null) params.set("state", result.clientState);
      res.redirect(303, `${request.redirectUrl}#${params.toString()}`);
    } catch (e) {
      if (e instanceof AuthError && e.code === "INVALID_CODE" && e.details.attemptsRemaining !== undefined) {
        const request = await links.open(token).catch(() => null);
        if (request) {
          send(res, 400, confirmForm(appName, token, request, `That number does not match. ${e.details.attemptsRemaining} tries left.`));
          return;
        }
      }
      send(res, e instanceof AuthError ? 400 : 500, message(appName, "This link can't be used", failure(e)));
    }
  });
  // The form parser's refusals (too large, bad encoding) get a page too, not Express's HTML error.
  router.use(((err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const status = typeof err?.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 500;
    send(res, status, message(appName, "This link can't be used", status === 500 ? "Something went wrong on our side." : "Open the link from your email again."));
  }) as ErrorRequestHandler);
  return router;
}

/**
 * A browser's POST sent by another site's page. Login CSRF: a page could post the
 * attacker's own link token and sign the visitor in as the attacker. Modern browsers say
 * so in Sec-Fetch-Site; otherwise a foreign Origin gives it away. Origin "null" passes
 * only with Sec-Fetch-Site: same-origin: an attacker's no-referrer page makes a browser
 * without fetch metadata send "null" too, while this page's same-origin referrer policy
 * lets such a browser send our real origin for its own form. Non-browser clients send neither.
 */
function crossSite(req: Request, trustedOrigins: ReadonlySet<string>): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site") return true;
  const origin = req.headers.origin;
  if (origin === "null") return site !== "same-origin";
  return typeof origin === "string" && !trustedOrigins.has(origin);
}

/** String fields of an urlencoded form; absent, repeated or non-form values read as "". */
function formFields<K extends string>(body: unknown, names: readonly K[]): Record<K, string> {
  const form = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
  return Object.fromEntries(names.map((n) => [n, typeof form[n] === "string" ? form[n] : ""])) as Record<K, string>;
}

/** What the app at redirectUrl receives, in the URL fragment (never sent to any server). */
function fragment(result: Awaited<ReturnType<MagicLinkService["consume"]>>): Record<string, string> {
  if (result.status === "MFA_REQUIRED") return { mfa_token: result.mfaToken, mfa_methods: result.mfaMethods.join(",") };
  const t = result.tokens;
  return { access_token: t.accessToken, refresh_token: t.refreshToken, token_type: t.tokenType, expires_in: String(t.expiresIn) };
}

function failure(e: unknown): string {
  return e instanceof AuthError ? e.message : "Something went wrong on our side.";
}

function sendPage(res: Response, status: number, body: { html: string; nonce: string }, formAction: string): void {
  res
    .status(status)
    .set({
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": `default-src 'none'; style-src 'nonce-${body.nonce}'; form-action ${formAction}; base-uri 'none'; frame-ancestors 'none'`,
      "Cache-Control": "no-store",
      // The link's token is in the URL: no other origin ever sees it as a referrer.
      "Referrer-Policy": "same-origin",
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
    })
    .send(body.html);
}

function page(appName: string, title: string, inner: string): { html: string; nonce: string } {
  const nonce = randomBytes(16).toString("base64");
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${esc(title)} · ${esc(appName)}</title>
<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}
h1{font-size:1.4rem}.meta{background:#f3f3f6;border-radius:.5rem;padding:.75rem 1rem}.err{color:#a4001b}
input{font-size:2rem;width:4ch;text-align:center;letter-spacing:.2em}button{font-size:1rem;padding:.6rem 1rem;margin:.3rem 0;width:100%}
.secondary{background:none;border:1px solid #999}.danger{background:none;border:1px solid #a4001b;color:#a4001b}</style></head>
<body><h1>${esc(title)}</h1>${inner}</body></html>`;
  return { html, nonce };
}

function message(appName: string, title: string, text: string) {
  return page(appName, title, `<p>${esc(text)}</p>`);
}

/**
 * With a redirectUrl this device can be signed in too (the page sends it there with its
 * tokens); without one only the device that asked can, so only that choice is offered.
 */
function confirmForm(appName: string, token: string, r: LinkRequest, error?: string) {
  const when = new Date(r.createdAt).toUTCString();
  const signIn = r.redirectUrl
    ? `<button name="action" value="confirm">Sign in on both devices</button>
<button class="secondary" name="action" value="local">Sign in on this device only</button>`
    : `<button name="action" value="confirm">Sign in on my other device</button>`;
  return page(
    appName,
    `Sign in to ${appName}`,
    `<div class="meta"><p>A sign-in was requested for <b>${esc(r.email)}</b><br>from <b>${esc(describeBrowser(r.userAgent))}</b>
at IP <b>${esc(shownIp(r.ip))}</b><br>on ${esc(when)}.</p></div>
${error ? `<p class="err">${esc(error)}</p>` : ""}
<form method="post"><input type="hidden" name="token" value="${esc(token)}">
<p><label for="m">Enter the number shown on the device that asked:</label><br>
<input id="m" name="matchCode" inputmode="numeric" pattern="[0-9]{2}" maxlength="2" autocomplete="off" autofocus></p>
${signIn}
<button class="danger" name="action" value="deny">This wasn't me</button></form>`,
  );
}
