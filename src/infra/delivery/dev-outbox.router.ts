import { Router } from "express";
import type { DevOutbox } from "./dev-outbox";

/**
 * The development outbox as JSON, newest first, for `GET /dev/outbox` (mount it there:
 * `app.use("/dev/outbox", devOutboxRouter(outbox))`). `?to=` keeps one recipient's
 * messages, handy for scripts that need the code just sent. Outside production only:
 * it shows one-time codes to anyone who asks.
 */
export function devOutboxRouter(outbox: DevOutbox): Router {
  const router = Router();
  router.get("/", (req, res) => {
    const to = typeof req.query.to === "string" ? req.query.to : undefined;
    const entries = outbox.list();
    res.set("Cache-Control", "no-store").json(to === undefined ? entries : entries.filter((e) => e.to === to));
  });
  return router;
}
