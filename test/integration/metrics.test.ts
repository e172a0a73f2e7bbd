import { LoginDocument, RefreshTokensDocument, RequestOtpDocument, SignUpDocument, VerifyOtpDocument } from "../__generated__/graphql";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { scrape, type Scrape } from "../helpers/prometheus";
import { waitFor } from "../helpers/wait";

let gw: TestGateway;
let plain: TestGateway;
beforeAll(async () => {
  [gw, plain] = await Promise.all([
    startTestGateway({ env: { METRICS_PORT: "0", LOGIN_MAX_FAILURES: "3" } }),
    startTestGateway({ store: "memory" }),
  ]);
});
afterAll(() => Promise.all([gw.close(), plain.close()]));

const metrics = () => scrape(gw.metricsUrl!);
/** How much each named sample moved between two scrapes. */
const moved = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}) => after.value(name, labels) - before.value(name, labels);

const PASSWORD = "correct horse battery";
const signUp = (email: string) => gw.request(SignUpDocument, { input: { email, password: PASSWORD } });
const login = (email: string, password: string) => gw.request(LoginDocument, { input: { email, password } });
const refresh = (refreshToken: string) => gw.request(RefreshTokensDocument, { refreshToken });

describe("GET /metrics", () => {
  it("is not served on the public port, nor at all unless METRICS_PORT is set", async () => {
    expect(plain.metricsUrl).toBeNull();
    for (const url of [plain.url, gw.url]) {
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain("auth_gateway_");
    }
  });

  it("serves only GET /metrics on the metrics port", async () => {
    expect((await fetch(`${gw.metricsUrl}/graphql`)).status).toBe(404);
    expect((await fetch(`${gw.metricsUrl}/metrics`, { method: "POST" })).status).toBe(404);
  });

  it("counts sign-ups, sign-in attempts by method and outcome, and rate-limit refusals by limit", async () => {
    const before = await metrics();
    expect((await signUp("metrics-ann@example.com")).errors).toBeUndefined();
    expect(errorCode(await login("metrics-ann@example.com", "not the password"))).toBe("UNAUTHENTICATED");
    expect((await login("metrics-ann@example.com", PASSWORD)).data?.login.status).toBe("AUTHENTICATED");
    // LOGIN_MAX_FAILURES=3: the fourth attempt on one account within the window is refused.
    for (let i = 0; i < 3; i++) expect(errorCode(await login("metrics-nobody@example.com", "wrong"))).toBe("UNAUTHENTICATED");
    expect(errorCode(await login("metrics-nobody@example.com", "wrong"))).toBe("RATE_LIMITED");
    const after = await metrics();

    expect(moved(before, after, "auth_gateway_sign_ups_total", { method: "password" })).toBe(1);
    expect(moved(before, after, "auth_gateway_sign_in_attempts_total", { method: "password", outcome: "authenticated" })).toBe(1);
    expect(moved(before, after, "auth_gateway_sign_in_attempts_total", { method: "password", outcome: "unauthenticated" })).toBe(4);
    expect(moved(before, after, "auth_gateway_sign_in_attempts_total", { method: "password", outcome: "rate_limited" })).toBe(1);
    expect(moved(before, after, "auth_gateway_rate_limited_total", { limit: "login:account" })).toBe(1);
    expect(moved(before, after, "auth_gateway_audit_events_total", { type: "login.password", ok: "false" })).toBe(4);
    expect(moved(before, after, "auth_gateway_audit_events_total", { type: "user.signed_up", ok: "true" })).toBe(1);
    // The sign-up's session and the login's: their rows are written with them, and counted all the same.
    expect(moved(before, after, "auth_gateway_audit_events_total", { type: "session.created", ok: "true" })).toBe(2);
  });

  it("counts codes requested and sent by channel, and wrong codes as failed sign-ins", async () => {
    const before = await metrics();
    const r = await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: "metrics-otp@example.com", purpose: "SIGN_IN" } });
    const code = await gw.codeSentTo("metrics-otp@example.com");
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    expect(errorCode(await gw.request(VerifyOtpDocument, { input: { challengeId: r.data!.requestOtp.challengeId, code: wrong } }))).toBe("INVALID_CODE");
    // The queue's worker counts the send once the outbox has it.
    const after = await waitFor(async () => {
      const now = await metrics();
      return moved(before, now, "auth_gateway_messages_total", { channel: "email", outcome: "sent" }) >= 1 && now;
    }, "the sent message to be counted");

    expect(moved(before, after, "auth_gateway_codes_requested_total", { channel: "email", kind: "code" })).toBe(1);
    expect(moved(before, after, "auth_gateway_messages_total", { channel: "email", outcome: "sent" })).toBe(1);
    expect(moved(before, after, "auth_gateway_messages_total", { outcome: "failed" })).toBe(0);
    expect(moved(before, after, "auth_gateway_sign_in_attempts_total", { method: "otp", outcome: "invalid_code" })).toBe(1);
  });

  it("counts refreshes and refresh-token reuse", async () => {
    const tokens = (await signUp("metrics-refresh@example.com")).data!.signUp.tokens!;
    const before = await metrics();
    expect((await refresh(tokens.refreshToken)).errors).toBeUndefined();
    expect(errorCode(await refresh(tokens.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await refresh("not-a-refresh-token"))).toBe("UNAUTHENTICATED");
    const after = await metrics();

    expect(moved(before, after, "auth_gateway_refreshes_total", { outcome: "rotated" })).toBe(1);
    expect(moved(before, after, "auth_gateway_refreshes_total", { outcome: "reused" })).toBe(1);
    expect(moved(before, after, "auth_gateway_refreshes_total", { outcome: "invalid" })).toBe(1);
    expect(moved(before, after, "auth_gateway_audit_events_total", { type: "session.refresh_reuse", ok: "false" })).toBe(1);
  });

  it("times GraphQL operations by name and type; what did not parse is unknown, a nameless one anonymous", async () => {
    const before = await metrics();
    await login("metrics-ann@example.com", PASSWORD);
    await gw.request("query { __typename }");
    await gw.request("query Broken {");
    await gw.request("query NoSuchField { noSuchField }");
    const after = await metrics();
    const count = "auth_gateway_graphql_operation_duration_seconds_count";

    expect(moved(before, after, count, { operation: "Login", type: "mutation" })).toBe(1);
    expect(moved(before, after, count, { operation: "anonymous", type: "query" })).toBe(1);
    // Neither a syntax error nor an invalid operation lends its name to a label.
    expect(moved(before, after, count, { operation: "unknown", type: "unknown" })).toBe(2);
    expect(after.labelValues(count, "operation")).not.toContain("Broken");
    expect(after.labelValues(count, "operation")).not.toContain("NoSuchField");
    expect(after.labelValues(count, "operation")).toEqual(expect.arrayContaining(["Login", "SignUp", "RefreshTokens", "RequestOtp", "VerifyOtp"]));
    expect(moved(before, after, "auth_gateway_http_request_duration_seconds_count", { route: "/graphql", method: "POST" })).toBe(4);
  });

  it("caps distinct operation names, so clients cannot mint labels without end", async () => {
    for (let i = 0; i < 110; i++) await gw.request(`query Flood${i} { __typename }`);
    const names = (await metrics()).labelValues("auth_gateway_graphql_operation_duration_seconds_count", "operation");
    expect(names.length).toBeLessThanOrEqual(100 + 3);
    expect(names).toContain("other");
  });

  it("shows the delivery queue's depth and oldest job, and Node's event-loop delay", async () => {
    const now = await metrics();
    for (const state of ["waiting", "delayed", "active"]) expect(now.has("auth_gateway_delivery_queue_jobs", { state })).toBe(true);
    expect(now.has("auth_gateway_delivery_queue_oldest_job_age_seconds")).toBe(true);
    expect(now.has("nodejs_eventloop_lag_p99_seconds")).toBe(true);
    expect(now.has("process_resident_memory_bytes")).toBe(true);
  });
});
