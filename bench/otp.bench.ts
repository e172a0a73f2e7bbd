/**
 * requestOtp and verifyOtp through the whole gateway, next to a bare node:http handler
 * that runs the same Redis scripts, in the same process and against the same Redis: the
 * ratio is the cost of GraphQL, validation, limits, audit and sessions around the script.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npm run bench      (DATABASE_URL too, for Postgres)
 */
import "reflect-metadata";
import { randomUUID } from "node:crypto";
import http from "node:http";
import autocannon from "autocannon";
import { OtpChallengeStore } from "../src/methods/otp/otp-challenge.store";
import { deriveSecret } from "../src/sessions/signing-keys";
import { systemClock } from "../src/core/ports";
import { startTestGateway } from "../test/helpers/gateway";

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function run(name: string, url: string, body: () => string): Promise<Figures> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [{ method: "POST", headers: { "content-type": "application/json" }, setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

async function main(): Promise<void> {
  if (!process.env.REDIS_URL) throw new Error("set REDIS_URL (the benchmark measures the Redis path)");
  const gw = await startTestGateway({
    env: {
      LOG_LEVEL: "warn",
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      OTP_MAX_REQUESTS_PER_IP_PER_HOUR: "100000",
      OTP_MAX_PER_DESTINATION_PER_HOUR: "1000",
    },
  });
  const challenges = new OtpChallengeStore(gw.store, systemClock, deriveSecret(gw.keyRing.signing, "otp-challenge"));
  const CODE = "123456";
  const newChallenge = async () => {
    const challengeId = randomUUID();
    await challenges.create({ challengeId, code: CODE, purpose: "SIGN_IN", channel: "EMAIL", destination: `${challengeId}@bench.test`, userId: null, ttlSeconds: 300, maxAttempts: 5 });
    return challengeId;
  };
  // Enough prepared challenges that every verification consumes a fresh one.
  const prepare = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 200) ids.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, newChallenge))));
    return ids;
  };

  // Baseline: the same scripts behind a bare node:http handler.
  const bare = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", async () => {
      const { op, challengeId } = JSON.parse(raw) as { op: string; challengeId?: string };
      if (op === "request") await newChallenge();
      else await challenges.verify(challengeId!, CODE);
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => bare.listen(0, "127.0.0.1", r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}`;

  let n = 0;
  const requestBody = () =>
    JSON.stringify({ query: "mutation($i:RequestOtpInput!){requestOtp(input:$i){challengeId}}", variables: { i: { channel: "EMAIL", destination: `b${n++}@bench.test` } } });
  const figures: Figures[] = [];
  figures.push(await run("requestOtp  gateway", `${gw.url}/graphql`, requestBody));
  figures.push(await run("requestOtp  bare   ", bareUrl, () => JSON.stringify({ op: "request" })));

  const expected = Math.ceil(Math.max(figures[0].rps, figures[1].rps) * DURATION_S * 1.5) + 1000;
  const forGateway = await prepare(expected);
  const forBare = await prepare(expected);
  figures.push(
    await run("verifyOtp   gateway", `${gw.url}/graphql`, () =>
      JSON.stringify({ query: "mutation($i:VerifyOtpInput!){verifyOtp(input:$i){status}}", variables: { i: { challengeId: forGateway.pop(), code: CODE } } }),
    ),
  );
  figures.push(await run("verifyOtp   bare   ", bareUrl, () => JSON.stringify({ op: "verify", challengeId: forBare.pop() })));

  console.log(`\n${CONNECTIONS} connections, ${DURATION_S} s each, Redis ${process.env.REDIS_URL}, ${gw.db.url ? "Postgres" : "PGlite"}`);
  console.log("scenario              req/s     p50 ms   p99 ms   errors  non-2xx");
  for (const f of figures) {
    console.log(`${f.name}   ${f.rps.toFixed(0).padStart(7)}   ${String(f.p50).padStart(6)}   ${String(f.p99).padStart(6)}   ${String(f.errors).padStart(6)}  ${String(f.non2xx).padStart(7)}`);
  }
  const ratio = (a: Figures, b: Figures) => `${(a.rps / b.rps).toFixed(2)}x throughput, p99 ${(a.p99 / Math.max(b.p99, 1)).toFixed(1)}x`;
  console.log(`\nrequestOtp gateway vs bare: ${ratio(figures[0], figures[1])}`);
  console.log(`verifyOtp  gateway vs bare: ${ratio(figures[2], figures[3])} (a success also writes a user, a session and audit rows)`);

  bare.close();
  await gw.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
