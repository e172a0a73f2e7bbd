// First: tracing, when on, must patch http, express, graphql, ioredis and pg before they load.
import { tracing } from "./tracing";
import "reflect-metadata";
import { createGateway } from "./gateway";
import { closeAll, openInfrastructure } from "./infrastructure";
import { startProcess, stopOnSignals } from "./process-start";

/** The composition root: settings → infrastructure → services → schema → server. */
async function main(): Promise<void> {
  const { settings, log } = await startProcess(tracing?.logFields);
  if (tracing) log.info("OTEL_EXPORTER_OTLP_ENDPOINT set: sending traces");

  const infra = await openInfrastructure(settings, log);
  const gateway = await createGateway(settings, infra, log);
  const port = await gateway.listen(settings.port, settings.host);
  log.info({ port, host: settings.host }, `gateway ready at ${settings.publicUrl}/graphql`);

  stopOnSignals(settings, log, async () => {
    await gateway.close();
    log.info("server closed");
    await closeAll(log, { infrastructure: infra, ...(tracing && { tracing: { close: tracing.shutdown } }) });
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
