import { captureLogger } from "../../../test/helpers/log";
import { DevOutbox } from "./dev-outbox";

const message = (to: string) => ({ channel: "sms" as const, to, text: "Your code is 123456\nDo not share it.", purpose: "otp.sign_in" });

describe("DevOutbox", () => {
  it("lists messages newest first", async () => {
    const outbox = new DevOutbox(captureLogger("silent").log);
    await outbox.send(message("+14155550101"));
    await outbox.send(message("+14155550102"));
    expect(outbox.list().map((e) => e.to)).toEqual(["+14155550102", "+14155550101"]);
  });

  it("keeps only the last `capacity` messages", async () => {
    const outbox = new DevOutbox(captureLogger("silent").log, 3);
    for (let i = 1; i <= 5; i++) await outbox.send(message(`+1415555010${i}`));
    expect(outbox.list().map((e) => e.to)).toEqual(["+14155550105", "+14155550104", "+14155550103"]);
  });

  it("prints each message, text included, on one line", async () => {
    const { log, lines } = captureLogger("info");
    const outbox = new DevOutbox(log);
    await outbox.send(message("+14155550101"));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).msg).toBe("dev outbox: sms to +14155550101: Your code is 123456 / Do not share it.");
  });

  it("hands out copies, so a caller cannot edit the outbox", async () => {
    const outbox = new DevOutbox(captureLogger("silent").log);
    await outbox.send(message("+14155550101"));
    outbox.list().pop();
    expect(outbox.list()).toHaveLength(1);
  });
});
