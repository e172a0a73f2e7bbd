import { randomBytes } from "node:crypto";
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from "express";
import { clientInfo } from "../../core/client-info";
import { escapeHtml as esc } from "../../core/text";
import type { SocialService } from "./social.service";

/**
 * GET (or Apple's form_post POST) /auth/social/<provider>/callback: where providers send
 * the browser back. It answers with a 303 to the app's redirectUrl, or a plain page when
 * the sign-in is unknown. The URL carries the provider's code: no referrer, no cache.
 */
export function socialCallback(social: SocialService, appName: string): Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: "16kb" }));

  const handle = async (req: Request<{ provider: string }>, res: Response) => {
    const params = req.method === "POST" ? formParams(req.body) : new URL(req.originalUrl, "http://callback.invalid").searchParams;
    const outcome = await social.callback(req.params.provider, params, clientInfo(req.ip, req.headers["user-agent"]));
    if ("redirect" in outcome) {
      res.set({ "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" }).redirect(303, outcome.redirect);
      return;
    }
    sendPage(res, outcome.page.status, appName, outcome.page.title, outcome.page.text);
  };
  router.get("/:provider/callback", handle);
  router.post("/:provider/callback", handle);
  router.use(((err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const status = typeof err?.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 500;
    sendPage(res, status, appName, "This sign-in can't be used", status === 500 ? "Something went wrong on our side. Go back to the app and try again." : "Go back to the app and sign in again.");
  }) as ErrorRequestHandler);
  return router;
}

/** String fields of a form post (Apple's code, state, user); anything else is left out. */
function formParams(body: unknown): URLSearchParams {
  const params = new URLSearchParams();
  if (body && typeof body === "object") for (const [k, v] of Object.entries(body)) if (typeof v === "string") params.set(k, v);
  return params;
}

function sendPage(res: Response, status: number, appName: string, title: string, text: string): void {
  const nonce = randomBytes(16).toString("base64");
  res
    .status(status)
    .set({
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
      "Cache-Control": "no-store",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)} · ${esc(appName)}</title>` +
        `<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}h1{font-size:1.4rem}</style></head>` +
        `<body><h1>${esc(title)}</h1><p>${esc(text)}</p></body></html>`,
    );
}
