/**
 * One deadline for work that may make several waits (a provider step's discovery, token and
 * userinfo requests; a readiness probe): each wait may have a timeout of its own, but their
 * sum must not run longer. Past it the promise rejects with the signal's TimeoutError; work
 * still out ends on its own (`signal` lets it stop early: fetch takes it), its result unused.
 */
export function withinDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  return new Promise<T>((resolve, reject) => {
    const expired = () => reject(signal.reason);
    signal.addEventListener("abort", expired, { once: true });
    work(signal)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener("abort", expired));
  });
}
