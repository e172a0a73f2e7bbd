import { describe, expect, it } from "vitest";
import { clock, durationInWords, secondsUntil, timeAgo } from "./time";

describe("times for people", () => {
  it("rounds waits up, so the app never says 'try now' too early", () => {
    expect(durationInWords(0.2)).toBe("1 second");
    expect(durationInWords(59)).toBe("59 seconds");
    expect(durationInWords(61)).toBe("2 minutes");
    expect(durationInWords(3601)).toBe("2 hours");
  });

  it("counts down as m:ss and never below zero", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(secondsUntil("2026-01-01T00:01:05Z", now)).toBe(65);
    expect(clock(65)).toBe("1:05");
    expect(secondsUntil("2025-12-31T23:59:00Z", now)).toBe(0);
  });

  it("says when, relative to now", () => {
    const now = Date.parse("2026-01-02T12:00:00Z");
    expect(timeAgo("2026-01-02T11:59:30Z", now)).toBe("just now");
    expect(timeAgo("2026-01-02T11:55:00Z", now)).toBe("5 minutes ago");
    expect(timeAgo("2026-01-01T12:00:00Z", now)).toBe("yesterday");
  });
});
