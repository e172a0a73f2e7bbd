import "reflect-metadata";
import { closeAll, openInfrastructure } from "./infrastructure";
import { startProcess, stopOnSignals } from "./process-start";

/**
 * The delivery worker alone (`node dist/src/worker.js`): sends what gateways started with
 * DELIVERY_WORKER=false queue in Redis, with the same settings (Redis, SMTP, Twilio, the
 * signing key the jobs are sealed under, Postgres for the audit of final failures). No
 * HTTP. Any number may run; each job is sent by one of them.
 */
async function worker(): Promise<void> {
  const { settings, log } = await startProcess();
  if (!settings.redis) {
    log.error("the delivery worker needs REDIS_URL or REDIS_CLUSTER_NODES: it sends what gateways queue there");
    log.flush();
    process.exit(1);
  }
  const infra = await openInfrastructure({ ...settings, deliveryWorker: true }, log);
  log.info("delivery worker ready");
  stopOnSignals(settings, log, () => closeAll(log, { infrastructure: infra }));
}

worker().catch((err) => {
  console.error(err);
  process.exit(1);
});
