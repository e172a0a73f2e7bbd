/**
 * What argon2id at the gateway's parameters can do on this machine: `concurrency`
 * verifications in flight for `seconds`, in a process of its own (as the gateway is).
 * Prints `{"perSecond":N}`.
 */
import { PasswordHasher } from "../src/methods/password/password.hasher";

async function main(): Promise<void> {
  const [concurrency, seconds] = process.argv.slice(2).map(Number);
  // Our parameters, and as many in flight as the load has (libuv's pool runs them), not the gateway's cap.
  const hasher = new PasswordHasher({ concurrency });
  const stored = await hasher.hash("correct horse battery staple");
  const until = Date.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (Date.now() < until) {
      if (!(await hasher.verify(stored, "correct horse battery staple"))) throw new Error("verification failed");
      done++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  console.log(JSON.stringify({ perSecond: done / ((Date.now() - started) / 1000) }));
}

void main();
