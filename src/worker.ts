import "reflect-metadata";
import { closeAll, openInfrastructure } from "./infrastructure";
import { listenOn, metricsListener } from "./metrics-listener";
import { startProcess, stopOnSignals } from "./process-start";

/**
 * The delivery worker alone (`node dist/src/worker.js`): sends what gateways started with
 * DELIVERY_WORKER=false queue in Redis, with the same settings (Redis, SMTP, Twilio, the
 * signing key the jobs are sealed under, Postgres for the audit of final failures). No
 * public HTTP; GET /metrics on METRICS_PORT when set (the sent/retried/failed counters are
 * counted where messages are sent: here). Any number may run; each job is sent by one.
 */
async function worker(): Promise<void> {
  const { settings, log } = await startProcess();
  // A development outbox here would be read by nobody: codes sent to it would be lost.
  const refusals = [
    !settings.redis && "the delivery worker needs REDIS_URL or REDIS_CLUSTER_NODES: it sends what gateways queue there",
    !settings.mail.smtpUrl && "the delivery worker needs SMTP_URL (without it email would go to a development outbox nothing serves)",
    settings.sms.enabled && !settings.sms.twilio && "the delivery worker needs TWILIO_* with SMS_ENABLED (without them SMS would go to a development outbox nothing serves)",
  ].filter((r): r is string => typeof r === "string");
  if (refusals.length) {
    for (const r of refusals) log.error(r);
    log.flush();
    process.exit(1);
  }
  if (!settings.jwt.privateKeyPem) log.warn("JWT_PRIVATE_KEY unset: queued messages are sealed under a key derived from it, so this worker opens only the jobs of gateways sharing its DATA_DIR");
  const infra = await openInfrastructure({ ...settings, deliveryWorker: true }, log);
  const metrics = settings.metrics ? metricsListener(infra, log) : null;
  if (metrics && settings.metrics) log.info({ port: await listenOn(metrics, settings.metrics.port, settings.metrics.host), host: settings.metrics.host }, "metrics at /metrics");
  log.info("delivery worker ready");
  stopOnSignals(settings, log, async () => {
    if (metrics?.listening) await new Promise<void>((resolve) => metrics.close(() => resolve()));
    await closeAll(log, { infrastructure: infra });
  });
}

worker().catch((err) => {
  console.error(err);
  process.exit(1);
});
