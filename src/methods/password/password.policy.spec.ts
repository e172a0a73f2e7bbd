import { AuthError } from "../../core/errors";
import { checkNewPassword, normalizePassword } from "./password.policy";

const failure = (password: string, email = "ann@example.com") => {
  try {
    checkNewPassword(password, email);
    return null;
  } catch (e) {
    return e instanceof AuthError ? `${e.code}:${e.details.field}:${e.message}` : String(e);
  }
};

describe("checkNewPassword (NIST SP 800-63B)", () => {
  it("accepts 8 characters and more, with no composition rules", () => {
    expect(failure("abcdefgh-not-common")).toBeNull();
    expect(failure("correct horse battery staple")).toBeNull();
  });
  it("counts characters, not UTF-16 units", () => {
    expect(failure("🔑🔑🔑🔑🔑🔑🔑🔑")).toBeNull();
    expect(failure("🔑🔑🔑🔑🔑🔑🔑")).toMatch(/at least 8/);
  });
  it("refuses common passwords whatever their case", () => {
    expect(failure("Password123")).toMatch(/BAD_USER_INPUT:password:.*common/);
  });
  it("refuses the email or its local part", () => {
    expect(failure("ann@example.com")).toMatch(/email/);
    expect(failure("ANNEXAMPLE", "annexample@example.com")).toMatch(/email/);
  });
  it("refuses more than 256 characters", () => {
    expect(failure("a".repeat(257))).toMatch(/at most 256/);
  });
  it("normalizes to NFKC so composed and decomposed forms match", () => {
    expect(normalizePassword("e\u0301tude-secrète")).toBe(normalizePassword("\u00e9tude-secrète"));
  });
});
