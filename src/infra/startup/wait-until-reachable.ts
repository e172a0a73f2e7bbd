/**
 * At start, Postgres and Redis must answer before the gateway takes traffic: a container
 * often starts before its database does. Retried with backoff for a bounded time, then
 * given up, so the orchestrator restarts the container and shows the failure (exit 1),
 * instead of a gateway that is up but can serve nothing.
 */

export interface Dependency {
  /** "Postgres", "Redis": named in every line. */
  name: string;
  /** Shown as is: pass it through redactUrlCredentials first. */
  redactedUrl: string;
  /** Resolves once the dependency answers; throws why not. */
  probe(): Promise<void>;
}

export interface RetryOptions {
  /** How long to keep trying after the first failure (STARTUP_RETRY_SECONDS). */
  forMs: number;
  log: { warn(msg: string): void; info(msg: string): void };
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Gave up: one line to print per dependency (its name, redacted URL and the cause). */
export class UnreachableError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("; "));
    this.name = "UnreachableError";
  }
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

export async function waitUntilReachable(dep: Dependency, opts: RetryOptions): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = opts.now ?? Date.now;
  const started = now();
  let delay = FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await dep.probe();
      if (attempt > 1) opts.log.info(`${dep.name} at ${dep.redactedUrl} answers (attempt ${attempt})`);
      return;
    } catch (error) {
      const left = started + opts.forMs - now();
      if (left <= 0) {
        const tried = attempt === 1 ? "" : ` after ${attempt} attempts in ${Math.round((now() - started) / 1000)} s`;
        throw new UnreachableError([`${dep.name} at ${dep.redactedUrl} is not available (${reasonOf(error)})${tried}; exiting`]);
      }
      // One line, not one per attempt: the log stays readable while a database boots.
      if (attempt === 1) opts.log.warn(`${dep.name} at ${dep.redactedUrl} is not available (${reasonOf(error)}); retrying for up to ${Math.round(opts.forMs / 1000)} s`);
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}

/** Every dependency at once, so an operator sees each one that is down. */
export async function waitUntilAllReachable(deps: Dependency[], opts: RetryOptions): Promise<void> {
  const results = await Promise.allSettled(deps.map((d) => waitUntilReachable(d, opts)));
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (failures.length === 0) return;
  const unreachable = failures.filter((f): f is UnreachableError => f instanceof UnreachableError);
  if (unreachable.length !== failures.length) throw failures.find((f) => !(f instanceof UnreachableError));
  throw new UnreachableError(unreachable.flatMap((u) => u.lines));
}

/** A driver's error as one line: Node's AggregateError (IPv4 and IPv6 both refused) has no message of its own. */
function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return [...new Set(error.errors.map(reasonOf))].join("; ");
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}
