import { captureLogger } from "../../../test/helpers/log";

const lastLine = (lines: string[]) => JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;

describe("createLogger", () => {
  it("names levels instead of numbering them", () => {
    const { log, lines } = captureLogger("debug");
    log.warn("a warning");
    expect(lastLine(lines)).toMatchObject({ level: "warn", msg: "a warning" });
    log.debug("a detail");
    expect(lastLine(lines)).toMatchObject({ level: "debug" });
  });

  it("hides one-time codes but shows an error's code", () => {
    const { log, lines } = captureLogger();
    log.info({ input: { code: "123456", challengeId: "c-1" } }, "with a code");
    expect(lastLine(lines)).toMatchObject({ input: { code: "[redacted]", challengeId: "c-1" } });
    log.info({ args: { code: "234567" }, mutation: { input: { code: "345678" } }, payload: { codes: ["K7P2-Q9XA"] } }, "more codes");
    expect(lastLine(lines)).toMatchObject({ args: { code: "[redacted]" }, mutation: { input: { code: "[redacted]" } }, payload: { codes: "[redacted]" } });
    const err = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:25"), { code: "ECONNREFUSED" });
    log.warn({ err, cause: { name: "Error", code: 21211, message: "invalid number" } }, "delivery failed");
    expect(lastLine(lines)).toMatchObject({ err: { code: "ECONNREFUSED" }, cause: { code: 21211 } });
    for (const secret of ["123456", "234567", "345678", "K7P2-Q9XA"]) expect(lines.join("\n")).not.toContain(secret);
  });
});
