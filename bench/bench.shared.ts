/** What both benchmarks (gateway.bench.ts, magic-link.bench.ts) do alike. */

/** The p-th percentile (nearest rank) of `xs`. */
export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

/** Calls `check` every 2 ms until it gives a value; throws after `timeoutMs`. */
export async function pollFor<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Exits 1 if the benchmark is still running after `ms`: a hung run never holds CI forever. */
export function startWatchdog(ms: number): void {
  setTimeout(() => {
    console.error(`benchmark still running after ${ms / 1000} s; giving up`);
    process.exit(1);
  }, ms).unref();
}

/** The entry point: `clients` when forked as the client process (argv "clients"), else `main`, exiting 0 or 1. */
export function runBench(main: () => Promise<void>, clients: () => void): void {
  if (process.argv[2] === "clients") clients();
  else
    main().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
}
