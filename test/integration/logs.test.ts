import net from "node:net";
import { LoginDocument, SignUpDocument } from "../__generated__/graphql";
import { createDeliveryQueue } from "../../src/infra/delivery";
import { SmtpSender } from "../../src/infra/mail/smtp.sender";
import { emailMessage, MAIL_FROM } from "../contracts/delivery-queue.contract";
import { MemoryAuditLog } from "../helpers/audit";
import { errorCode, startTestGateway, type TestGateway } from "../helpers/gateway";
import { captureLogger } from "../helpers/log";
import { freePort } from "../helpers/ports";
import { waitFor } from "../helpers/wait";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ store: "memory", env: { LOGIN_MAX_FAILURES: "3" } });
});
afterAll(() => gw.close());

const PASSWORD = "correct horse battery";
const login = (email: string, password: string, requestId?: string) =>
  gw.request(LoginDocument, { input: { email, password } }, { headers: requestId ? { "x-request-id": requestId } : {} });
const linesOf = (requestId: string) => gw.logs.filter((l) => l.reqId === requestId || l.requestId === requestId || (l.req as { id?: string })?.id === requestId);

describe("request lines", () => {
  it("name the level and the GraphQL operation", async () => {
    await gw.request(SignUpDocument, { input: { email: "log-ann@example.com", password: PASSWORD } }, { headers: { "x-request-id": "log-signup-1" } });
    const line = await waitFor(() => gw.logs.find((l) => l.msg === "request completed" && (l.req as { id: string }).id === "log-signup-1"), "the request line");
    expect(line).toMatchObject({ level: "info", operationName: "SignUp", operationType: "mutation", res: { statusCode: 200 } });
  });

  it("leave the name out when the operation did not parse", async () => {
    await gw.request("mutation Broken {", undefined, { headers: { "x-request-id": "log-broken-1" } });
    const line = await waitFor(() => gw.logs.find((l) => l.msg === "request completed" && (l.req as { id: string }).id === "log-broken-1"), "the request line");
    expect(line).not.toHaveProperty("operationName");
  });
});

describe("a client that leaves before the answer", () => {
  it("gets a 'request aborted' line", async () => {
    const { port } = new URL(gw.url);
    // A body announced and never sent: the request waits until the client gives up.
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => {
        socket.write("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Request-Id: log-aborted-1\r\n\r\n{");
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on("close", () => resolve());
    });
    const line = await waitFor(() => gw.logs.find((l) => l.msg === "request aborted" && (l.req as { id: string }).id === "log-aborted-1"), "the aborted line");
    expect(line).toMatchObject({ level: "info", req: { method: "POST", url: "/graphql" } });
  });
});

describe("failed sign-ins", () => {
  it("write one line with the method and the reason, never the address or the password", async () => {
    expect(errorCode(await login("log-ann@example.com", "not my password", "log-fail-1"))).toBe("UNAUTHENTICATED");
    const failed = linesOf("log-fail-1").filter((l) => l.msg === "sign-in failed");
    expect(failed).toEqual([expect.objectContaining({ level: "info", method: "password", reason: "UNAUTHENTICATED", operationName: "Login" })]);
    const all = JSON.stringify(linesOf("log-fail-1"));
    expect(all).not.toContain("log-ann@example.com");
    expect(all).not.toContain("not my password");
  });

  it("write a warning when a limit refuses the attempt", async () => {
    for (let i = 0; i < 3; i++) await login("log-bob@example.com", "wrong");
    expect(errorCode(await login("log-bob@example.com", "wrong", "log-limited-1"))).toBe("RATE_LIMITED");
    expect(linesOf("log-limited-1").filter((l) => l.msg === "sign-in failed")).toEqual([expect.objectContaining({ level: "warn", method: "password", reason: "RATE_LIMITED" })]);
  });

  it("write nothing for a successful one", async () => {
    expect((await login("log-ann@example.com", PASSWORD, "log-ok-1")).data?.login.status).toBe("AUTHENTICATED");
    expect(linesOf("log-ok-1").filter((l) => l.msg === "sign-in failed")).toEqual([]);
  });
});

describe("/readyz", () => {
  it("says in-process for the embedded store instead of ok", async () => {
    const res = await fetch(`${gw.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ready", checks: { redis: "in-process" } });
  });
});

describe("errors in the log", () => {
  it("keep their code (err.code), so a refused connection reads as ECONNREFUSED", async () => {
    const port = await freePort();
    const refused = await startTestGateway({
      store: "memory",
      override: () => ({ readiness: { postgres: () => new Promise<void>((resolve, reject) => net.connect(port, "127.0.0.1").once("connect", resolve).once("error", reject)) } }),
    });
    try {
      expect((await fetch(`${refused.url}/readyz`)).status).toBe(503);
      const line = refused.logs.find((l) => l.msg === "readiness probe failed");
      expect(line).toMatchObject({ level: "warn", dependency: "postgres", err: { code: "ECONNREFUSED" } });
    } finally {
      await refused.close();
    }
  });
});

describe("delivery failures", () => {
  it("are a warning naming the provider's error code, never the message's text", async () => {
    const { log, lines } = captureLogger();
    const sender = new SmtpSender({ url: `smtp://127.0.0.1:${await freePort()}`, from: MAIL_FROM });
    const queue = createDeliveryQueue({ senders: { email: sender }, audit: new MemoryAuditLog(), log, retry: { maxAttempts: 1 } });
    try {
      await queue.enqueue(emailMessage);
      const raw = await waitFor(() => lines.find((l) => l.includes("delivery failed for good")), "the final failure");
      expect(JSON.parse(raw)).toMatchObject({ level: "warn", channel: "email", purpose: "otp.sign_in", reason: expect.any(String) });
      expect(lines.join("\n")).not.toContain(emailMessage.text);
    } finally {
      await queue.close();
      await sender.close?.();
    }
  });
});
