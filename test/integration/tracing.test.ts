import { randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { codeIn } from "../helpers/codes";
import { createTestDatabaseUrl, type EmptyPostgresDatabase } from "../helpers/database";
import { startGatewayProcess, type GatewayProcess } from "../helpers/process";
import { deleteKeysUnder } from "../helpers/redis-keyspace";
import { waitFor } from "../helpers/wait";

/**
 * Tracing is on only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and must be registered
 * before http, express, graphql, ioredis and pg load: only the real process shows that.
 * The collector here is a node:http server taking OTLP/HTTP JSON on POST /v1/traces.
 */

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  attributes?: OtlpKeyValue[];
  events?: Array<{ name: string; attributes?: OtlpKeyValue[] }>;
}
interface OtlpRequest {
  resourceSpans: Array<{ resource?: { attributes?: OtlpKeyValue[] }; scopeSpans: Array<{ scope?: { name: string }; spans: OtlpSpan[] }> }>;
}
interface ReceivedSpan extends OtlpSpan {
  scope: string;
  attrs: Record<string, unknown>;
}

const valueOf = (v: OtlpValue): unknown =>
  v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue ?? v.arrayValue?.values.map(valueOf);
const attrsOf = (kvs: OtlpKeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, valueOf(kv.value)]));

/** Every string a collector would store: span names and attribute values of spans, events and resources. */
function storedStrings(bodies: OtlpRequest[]): string[] {
  const out: string[] = [];
  const add = (kvs: OtlpKeyValue[] = []) => Object.values(attrsOf(kvs)).forEach((v) => out.push(JSON.stringify(v)));
  for (const body of bodies) {
    for (const rs of body.resourceSpans) {
      add(rs.resource?.attributes);
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          out.push(span.name);
          add(span.attributes);
          span.events?.forEach((e) => add(e.attributes));
        }
    }
  }
  return out;
}

async function startCollector() {
  const bodies: OtlpRequest[] = [];
  const raw: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces" && req.headers["content-type"]?.startsWith("application/json")) {
        raw.push(body);
        bodies.push(JSON.parse(body) as OtlpRequest);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } else {
        res.writeHead(415).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const spans = (): ReceivedSpan[] =>
    bodies.flatMap((b) =>
      b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, scope: ss.scope?.name ?? "", attrs: attrsOf(s.attributes) })))),
    );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    raw,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Preloaded with --require: writes which @opentelemetry modules the process loaded, as it exits. */
function writeModuleProbe(dir: string): { preload: string; loaded: () => string[] } {
  const out = path.join(dir, "otel-modules.json");
  const preload = path.join(dir, "probe.js");
  fs.writeFileSync(
    preload,
    `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache).filter((k) => k.includes("@opentelemetry")))));\n`,
  );
  return { preload, loaded: () => JSON.parse(fs.readFileSync(out, "utf8")) as string[] };
}

const SIGN_UP = `mutation SignUp($input: SignUpInput!) { signUp(input: $input) { status tokens { accessToken refreshToken } } }`;
const REFRESH = `mutation RefreshTokens($refreshToken: String!) { refreshTokens(refreshToken: $refreshToken) { accessToken refreshToken } }`;
const REQUEST_OTP = `mutation RequestOtp($input: RequestOtpInput!) { requestOtp(input: $input) { challengeId } }`;

describe("traces (OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  let dir: string;
  let gw: GatewayProcess | undefined;
  let pg: EmptyPostgresDatabase | undefined;
  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  const prefix = `gw-tracing-${Date.now()}:`;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-tracing-"));
    pg = await createTestDatabaseUrl();
  });
  afterEach(async () => {
    if (gw && gw.child.exitCode === null) {
      gw.child.kill("SIGKILL");
      await gw.exited;
    }
    gw = undefined;
    await collector?.close();
    await pg?.drop();
    const redis = new Redis(process.env.REDIS_URL!);
    await deleteKeysUnder(redis, prefix).finally(() => redis.quit());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const baseEnv = (probe: string): Record<string, string> => ({
    DATA_DIR: dir,
    REDIS_URL: process.env.REDIS_URL!,
    REDIS_KEY_PREFIX: prefix,
    NODE_OPTIONS: `--require ${probe}`,
    ...(pg && { DATABASE_URL: pg.url }),
  });

  it("sends one trace per request with HTTP, Express, GraphQL, Postgres and Redis spans, its id on the log line, and no secret", async () => {
    collector = await startCollector();
    const probe = writeModuleProbe(dir);
    gw = await startGatewayProcess({
      ...baseEnv(probe.preload),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    const email = `traced-${randomUUID()}@example.com`;
    const password = `pw-${randomUUID()}`;

    const signUp = await gw.request<{ signUp: { status: string; tokens: { refreshToken: string; accessToken: string } } }, object>(SIGN_UP, {
      input: { email, password },
    });
    expect(signUp.data!.signUp.status).toBe("AUTHENTICATED");
    const refreshed = await gw.request<{ refreshTokens: { refreshToken: string; accessToken: string } }, object>(REFRESH, {
      refreshToken: signUp.data!.signUp.tokens.refreshToken,
    });
    expect(refreshed.data!.refreshTokens.refreshToken).toBeTruthy();

    // Inline literals, not variables: graphql.source must still not carry them.
    const requestId = `trace-login-${randomUUID()}`;
    const login = await gw.request<{ login: { status: string } }, object>(
      `mutation Login { login(input: { email: ${JSON.stringify(email)}, password: ${JSON.stringify(password)} }) { status } }`,
      undefined,
      { headers: { "x-request-id": requestId } },
    );
    expect(login.data!.login.status).toBe("AUTHENTICATED");

    const otp = await gw.request<{ requestOtp: { challengeId: string } }, object>(REQUEST_OTP, { input: { channel: "EMAIL", destination: email } });
    const challengeId = otp.data!.requestOtp.challengeId;
    const code = await waitFor(async () => {
      const outbox = (await (await fetch(`${gw!.url}/dev/outbox?to=${encodeURIComponent(email)}`)).json()) as Array<{ text: string }>;
      return outbox[0] && codeIn(outbox[0].text);
    }, "the code in the outbox");
    const verified = await gw.request<{ verifyOtp: { status: string } }, object>(
      `mutation VerifyOtp { verifyOtp(input: { challengeId: ${JSON.stringify(challengeId)}, code: ${JSON.stringify(code)} }) { status } }`,
    );
    expect(verified.data!.verifyOtp.status).toBe("AUTHENTICATED");

    // graphql-js error messages quote the offending token: a typo or a wrong type must not put a password in a span.
    const typoPassword = `typo-${randomUUID()}`;
    const typo = await gw.request(`mutation Typo { login(input: { email: ${JSON.stringify(email)}, password ${JSON.stringify(typoPassword)} }) { status } }`);
    expect(typo.errors?.[0].extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    const numericPassword = String(Date.now()) + "4242";
    const wrongType = await gw.request(`mutation WrongType { login(input: { email: ${JSON.stringify(email)}, password: ${numericPassword} }) { status } }`);
    expect(wrongType.errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");

    // The magic-link page: its token is in the query string.
    const linkToken = `tok-${randomUUID()}`;
    await fetch(`${gw.url}/auth/magic-link?token=${linkToken}`);

    const spans = collector.spans;
    const loginSpan = await waitFor(() => spans().find((s) => s.name === "mutation Login"), "the Login operation's span");
    const linkPage = await waitFor(() => spans().find((s) => s.attrs["url.path"] === "/auth/magic-link"), "the magic-link page's span");
    const inLoginTrace = () => spans().filter((s) => s.traceId === loginSpan.traceId);
    for (const name of ["graphql.parse", "graphql.validate"]) {
      const failed = await waitFor(() => spans().find((s) => s.name === name && s.events?.length), `a ${name} span with an error`);
      expect(attrsOf(failed.events![0].attributes)["exception.message"]).toMatch(/^\[redacted/);
    }
    const scopes = ["http", "express", "graphql", "ioredis", ...(pg ? ["pg"] : [])];
    await waitFor(() => scopes.every((name) => inLoginTrace().some((s) => s.scope === `@opentelemetry/instrumentation-${name}`)), `spans of ${scopes.join(", ")} in one trace`);

    const trace = inLoginTrace();
    expect(loginSpan.attrs["graphql.operation.name"]).toBe("Login");
    expect(String(loginSpan.attrs["graphql.source"])).toMatch(/password: "\*"/);
    const server = trace.find((s) => s.scope === "@opentelemetry/instrumentation-http")!;
    expect(server.attrs).toMatchObject({ "http.request.method": "POST", "url.path": "/graphql", "http.response.status_code": 200 });
    const redisSpans = trace.filter((s) => s.scope === "@opentelemetry/instrumentation-ioredis");
    // The command name only: keys and arguments hold hashes and ids.
    for (const s of redisSpans) expect(s.attrs["db.query.text"]).toMatch(/^[a-z]+$/i);
    if (pg) {
      const statements = trace.filter((s) => s.scope === "@opentelemetry/instrumentation-pg" && s.attrs["db.query.text"]);
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) expect(s.attrs["db.query.text"]).not.toContain(email);
    }
    expect(linkPage.attrs["url.query"]).toBe("token=[redacted]");
    expect(spans().some((s) => s.name === "mutation SignUp")).toBe(true);
    expect(spans().some((s) => s.name === "mutation VerifyOtp")).toBe(true);

    // The request's log line names the same trace, and a span in it.
    const logged = gw.lines.map((l) => JSON.parse(l) as { req?: { id?: string }; trace_id?: string; span_id?: string }).filter((l) => l.req?.id === requestId);
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      expect(line.trace_id).toBe(loginSpan.traceId);
      expect(trace.map((s) => s.spanId)).toContain(line.span_id);
    }

    const everything = collector.raw.join("\n");
    const secrets = {
      password,
      typoPassword,
      numericPassword,
      email,
      linkToken,
      refreshToken: signUp.data!.signUp.tokens.refreshToken,
      rotatedRefreshToken: refreshed.data!.refreshTokens.refreshToken,
      accessToken: signUp.data!.signUp.tokens.accessToken,
    };
    for (const [name, secret] of Object.entries(secrets)) expect({ [name]: everything.includes(secret) }).toEqual({ [name]: false });
    // Six digits can occur by chance in a timestamp: look where a value would be recorded.
    expect(storedStrings(collector.bodies).filter((s) => s.includes(code))).toEqual([]);
    expect(storedStrings(collector.bodies)).toContain(JSON.stringify("auth-gateway")); // service.name

    gw.child.kill("SIGTERM");
    expect((await gw.exited).code).toBe(0);
    expect(probe.loaded().some((m) => m.includes("/@opentelemetry/sdk-node/"))).toBe(true);
  }, 120_000);

  it("loads nothing that traces and puts no trace id on log lines when the variable is unset", async () => {
    const probe = writeModuleProbe(dir);
    gw = await startGatewayProcess(baseEnv(probe.preload));
    const requestId = `untraced-${randomUUID()}`;
    const r = await gw.request<{ signUp: { status: string } }, object>(SIGN_UP, { input: { email: `untraced-${randomUUID()}@example.com`, password: "correct horse battery" } }, { headers: { "x-request-id": requestId } });
    expect(r.data!.signUp.status).toBe("AUTHENTICATED");
    gw.child.kill("SIGTERM");
    expect((await gw.exited).code).toBe(0);

    // Nothing that traces: no SDK, exporter or instrumentation. Only the no-op API package
    // may be there, which prom-client's process metrics require for exemplars.
    expect(probe.loaded().filter((m) => !m.includes("/@opentelemetry/api/"))).toEqual([]);
    const line = gw.lines.find((l) => l.includes(requestId));
    expect(line).toBeDefined();
    expect(line).not.toContain("trace_id");
  }, 60_000);
});
