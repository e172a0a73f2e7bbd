import http from "node:http";
import type { Infrastructure } from "./gateway";
import type { Logger } from "./infra/log/logger";

/** Listens; resolves with the port (0 picks a free one). */
export function listenOn(server: http.Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * GET /metrics (Prometheus text) on a listener of its own, like Kratos' admin port and
 * Keycloak's management port: the public port never serves it, and METRICS_HOST keeps it
 * on 127.0.0.1 unless the operator opens it to a scraper's network.
 */
export function metricsListener(infra: Pick<Infrastructure, "metrics" | "delivery">, log: Logger): http.Server {
  infra.metrics.collectDefaults();
  const { delivery } = infra;
  if (delivery.backlog) infra.metrics.watchDeliveryQueue({ backlog: () => delivery.backlog!() }, (err) => log.warn({ err }, "metrics: could not read the delivery queue"));
  return http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("Not found: GET /metrics\n");
      return;
    }
    infra.metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { "Content-Type": contentType }).end(body),
      (err) => {
        log.error({ err }, "metrics: scrape failed");
        res.writeHead(500, { "Content-Type": "text/plain" }).end("scrape failed\n");
      },
    );
  });
}
