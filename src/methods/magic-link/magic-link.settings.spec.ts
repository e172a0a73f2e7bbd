import { loadSettings, SettingsError } from "../../config/settings";

describe("magic-link settings", () => {
  it("default to the values the one-time codes' limits have", () => {
    expect(loadSettings({}).magicLink).toEqual({
      ttlSeconds: 900,
      signUp: true,
      resendCooldownSeconds: 60,
      maxMatchAttempts: 5,
      limits: { perEmail: { max: 5, windowSeconds: 3600 }, perIp: { max: 30, windowSeconds: 3600 } },
    });
  });

  it("are not moved by the codes' OTP_* settings (no borrowing)", () => {
    const s = loadSettings({ OTP_RESEND_COOLDOWN_SECONDS: "0", OTP_MAX_ATTEMPTS: "3", OTP_MAX_PER_DESTINATION_PER_HOUR: "7", OTP_MAX_REQUESTS_PER_IP_PER_HOUR: "9" });
    expect(s.magicLink).toMatchObject({ resendCooldownSeconds: 60, maxMatchAttempts: 5, limits: { perEmail: { max: 5 }, perIp: { max: 30 } } });
    expect(s.otp).toMatchObject({ resendCooldownSeconds: 0, maxAttempts: 3 });
  });

  it("take MAGIC_LINK_* over OTP_*, leaving the codes' own as they are", () => {
    const s = loadSettings({
      OTP_RESEND_COOLDOWN_SECONDS: "0",
      MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "120",
      MAGIC_LINK_MAX_MATCH_ATTEMPTS: "2",
      MAGIC_LINK_MAX_PER_EMAIL_PER_HOUR: "3",
      MAGIC_LINK_MAX_REQUESTS_PER_IP_PER_HOUR: "4",
    });
    expect(s.magicLink).toMatchObject({ resendCooldownSeconds: 120, maxMatchAttempts: 2, limits: { perEmail: { max: 3 }, perIp: { max: 4 } } });
    expect(s.otp).toMatchObject({ resendCooldownSeconds: 0, maxAttempts: 5, limits: { perDestination: { max: 5 }, perIp: { max: 30 } } });
  });

  it("name a bad OTP_* value once, under its own name", () => {
    try {
      loadSettings({ OTP_MAX_ATTEMPTS: "50", MAGIC_LINK_MAX_PER_EMAIL_PER_HOUR: "0" });
      throw new Error("expected a SettingsError");
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      expect(e.problems.map((p) => p.split(":")[0]).sort()).toEqual(["MAGIC_LINK_MAX_PER_EMAIL_PER_HOUR", "OTP_MAX_ATTEMPTS"]);
    }
  });
});
