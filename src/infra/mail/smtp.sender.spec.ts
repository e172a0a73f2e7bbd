import { smtpDeliveryError } from "./smtp.sender";

/** Errors shaped as nodemailer raises them (code, responseCode, command). */
const nodemailerError = (fields: { code: string; responseCode?: number; command?: string }) => Object.assign(new Error("smtp"), fields);

describe("smtpDeliveryError", () => {
  it("retries a 4xx reply: the server refused for now", () => {
    expect(smtpDeliveryError(nodemailerError({ code: "EENVELOPE", responseCode: 451, command: "RCPT TO" }))).toMatchObject({
      retryable: true,
      status: 451,
      reason: "SMTP 451 at RCPT TO",
    });
  });

  it("does not retry a 5xx reply: the refusal is final", () => {
    expect(smtpDeliveryError(nodemailerError({ code: "EMESSAGE", responseCode: 554, command: "DATA" }))).toMatchObject({ retryable: false, status: 554 });
    expect(smtpDeliveryError(nodemailerError({ code: "EAUTH", responseCode: 535, command: "AUTH PLAIN" }))).toMatchObject({ retryable: false, status: 535 });
  });

  it.each(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS"])("retries %s without a reply", (code) => {
    expect(smtpDeliveryError(nodemailerError({ code }))).toMatchObject({ retryable: true, status: undefined });
  });

  it.each(["EAUTH", "EENVELOPE", "ECONFIG"])("does not retry %s without a reply", (code) => {
    expect(smtpDeliveryError(nodemailerError({ code }))).toMatchObject({ retryable: false, reason: `SMTP error (${code})` });
  });
});
