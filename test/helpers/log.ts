import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/infra/log/logger";

/** The project's logger (redaction included), writing to memory instead of stdout. */
export function captureLogger(level = "debug"): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  return { log: createLogger({ level, destination: sink }), lines };
}
