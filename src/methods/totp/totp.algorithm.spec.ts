import { Secret, TOTP, URI } from "otpauth";
import { generateTotpSecret, hotpCode, matchTotp, otpauthUrl, timeStep, totpCode, type TotpAlgorithm } from "./totp.algorithm";

const ascii = (s: string) => Buffer.from(s, "ascii");

describe("RFC 4226 Appendix D (HOTP)", () => {
  const secret = ascii("12345678901234567890");
  const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];

  it.each(expected.map((code, counter) => [counter, code] as const))("counter %i gives %s", (counter, code) => {
    expect(hotpCode(secret, counter)).toBe(code);
  });
});

describe("RFC 6238 Appendix B (TOTP, 8 digits, 30 s)", () => {
  const seeds: Record<TotpAlgorithm, Buffer> = {
    sha1: ascii("1234567890".repeat(2)),
    sha256: ascii("1234567890".repeat(4).slice(0, 32)),
    sha512: ascii("1234567890".repeat(7).slice(0, 64)),
  };
  const vectors: Array<[number, string, string, string]> = [
    [59, "94287082", "46119246", "90693936"],
    [1111111109, "07081804", "68084774", "25091201"],
    [1111111111, "14050471", "67062674", "99943326"],
    [1234567890, "89005924", "91819424", "93441116"],
    [2000000000, "69279037", "90698825", "38618901"],
    [20000000000, "65353130", "77737706", "47863826"],
  ];
  const cases = vectors.flatMap(([seconds, sha1, sha256, sha512]) => [
    ["sha1", seconds, sha1] as const,
    ["sha256", seconds, sha256] as const,
    ["sha512", seconds, sha512] as const,
  ]);

  it.each(cases)("%s at %i s gives %s", (algorithm, seconds, code) => {
    expect(totpCode(seeds[algorithm], seconds * 1000, { algorithm, digits: 8 })).toBe(code);
  });

  it.each(cases)("matchTotp accepts the %s code at %i s in the current step", (algorithm, seconds, code) => {
    expect(matchTotp(seeds[algorithm], code, seconds * 1000, 1, { algorithm, digits: 8 })).toEqual({ step: Math.floor(seconds / 30), offset: 0 });
  });
});

describe("timeStep", () => {
  it("is floor(t / step), changing exactly on the boundary", () => {
    expect(timeStep(59_999)).toBe(1);
    expect(timeStep(60_000)).toBe(2);
    expect(timeStep(60_000, 60)).toBe(1);
  });
  it("refuses negative times", () => {
    expect(() => timeStep(-1)).toThrow(RangeError);
  });
});

describe("matchTotp", () => {
  const secret = ascii("12345678901234567890");
  const now = 1_700_000_015_000; // mid-step, so ±30 s lands squarely in the neighbouring steps
  const current = timeStep(now);

  it.each([-1, 0, 1])("accepts a code from offset %i and says which step it was", (offset) => {
    const code = totpCode(secret, now + offset * 30_000);
    expect(matchTotp(secret, code, now)).toEqual({ step: current + offset, offset });
  });

  it.each([-2, 2, -3, 3])("refuses a code from offset %i with the default window of one step", (offset) => {
    expect(matchTotp(secret, totpCode(secret, now + offset * 30_000), now)).toBeNull();
  });

  it("accepts offset ±2 only when the window is widened to 2", () => {
    expect(matchTotp(secret, totpCode(secret, now + 60_000), now, 2)).toEqual({ step: current + 2, offset: 2 });
    expect(matchTotp(secret, totpCode(secret, now - 60_000), now, 2)).toEqual({ step: current - 2, offset: -2 });
  });

  it("with window 0 accepts only the current step", () => {
    expect(matchTotp(secret, totpCode(secret, now), now, 0)).toEqual({ step: current, offset: 0 });
    expect(matchTotp(secret, totpCode(secret, now + 30_000), now, 0)).toBeNull();
    expect(matchTotp(secret, totpCode(secret, now - 30_000), now, 0)).toBeNull();
  });

  it("refuses a code made with another secret", () => {
    expect(matchTotp(ascii("another secret, 20 b"), totpCode(secret, now), now)).toBeNull();
  });

  describe("refuses codes that are not exactly six ASCII digits", () => {
    const good = totpCode(secret, now);
    const fullWidth = [...good].map((d) => String.fromCharCode(0xff10 + Number(d))).join("");
    const arabicIndic = [...good].map((d) => String.fromCharCode(0x0660 + Number(d))).join("");
    it.each([
      ["empty", ""],
      ["too short", good.slice(0, 5)],
      ["too long", `${good}0`],
      ["leading space", ` ${good}`],
      ["trailing newline", `${good}\n`],
      ["inner space", `${good.slice(0, 3)} ${good.slice(3)}`],
      ["a letter", `${good.slice(0, 5)}a`],
      ["sign", `+${good.slice(1)}`],
      ["full-width digits", fullWidth],
      ["Arabic-Indic digits", arabicIndic],
    ])("%s", (_name, code) => {
      expect(matchTotp(secret, code, now)).toBeNull();
    });
    it("while the well-formed code itself is accepted", () => {
      expect(matchTotp(secret, good, now)).not.toBeNull();
    });
  });

  it("refuses an 8-digit code when 6 are expected", () => {
    expect(matchTotp(secret, totpCode(secret, now, { digits: 8 }), now)).toBeNull();
  });

  it("does not look before time step 0", () => {
    expect(matchTotp(secret, totpCode(secret, 0), 10_000)).toEqual({ step: 0, offset: 0 });
    expect(matchTotp(secret, totpCode(secret, 30_000), 10_000)).toEqual({ step: 1, offset: 1 });
  });

  it("refuses unreasonable windows", () => {
    expect(() => matchTotp(secret, "123456", now, -1)).toThrow(RangeError);
    expect(() => matchTotp(secret, "123456", now, 1.5)).toThrow(RangeError);
    expect(() => matchTotp(secret, "123456", now, 11)).toThrow(RangeError);
  });
});

describe("generateTotpSecret", () => {
  it("is 20 random bytes in unpadded base32 that an independent decoder reads back", () => {
    const { base32, raw } = generateTotpSecret();
    expect(raw).toHaveLength(20);
    expect(base32).toMatch(/^[A-Z2-7]{32}$/);
    expect(Buffer.from(Secret.fromBase32(base32).bytes)).toEqual(raw);
  });
  it("differs every time", () => {
    expect(generateTotpSecret().base32).not.toBe(generateTotpSecret().base32);
  });
});

describe("otpauthUrl", () => {
  const secretBase32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

  it("percent-encodes issuer and account in the label and the issuer parameter", () => {
    expect(otpauthUrl({ secretBase32, issuer: "Acme Auth", account: "jane+totp@example.com" })).toBe(
      "otpauth://totp/Acme%20Auth:jane%2Btotp%40example.com" +
        `?secret=${secretBase32}&issuer=Acme%20Auth&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it("is read back exactly by an independent parser", () => {
    const parsed = URI.parse(otpauthUrl({ secretBase32, issuer: "Acme Auth", account: "jane+totp@example.com" }));
    expect(parsed).toBeInstanceOf(TOTP);
    const totp = parsed as TOTP;
    expect(totp.issuer).toBe("Acme Auth");
    expect(totp.label).toBe("jane+totp@example.com");
    expect(totp.secret.base32).toBe(secretBase32);
    expect(totp.algorithm).toBe("SHA1");
    expect(totp.digits).toBe(6);
    expect(totp.period).toBe(30);
  });

  it.each([
    ["a colon in the issuer", { issuer: "Acme:Auth", account: "jane@example.com" }],
    ["a colon in the account", { issuer: "Acme", account: "a:b@example.com" }],
    ["an empty issuer", { issuer: "", account: "jane@example.com" }],
    ["an empty account", { issuer: "Acme", account: "" }],
  ])("refuses %s", (_name, label) => {
    expect(() => otpauthUrl({ secretBase32, ...label })).toThrow(RangeError);
  });

  it("refuses a secret that is not unpadded base32", () => {
    expect(() => otpauthUrl({ secretBase32: "gezdgnbv", issuer: "Acme", account: "j@example.com" })).toThrow(RangeError);
    expect(() => otpauthUrl({ secretBase32: "GEZDGNBV====", issuer: "Acme", account: "j@example.com" })).toThrow(RangeError);
  });
});

describe("interoperability with an independent implementation (otpauth)", () => {
  const { base32, raw } = generateTotpSecret();
  const app = new TOTP({ issuer: "Acme", label: "jane@example.com", secret: Secret.fromBase32(base32), algorithm: "SHA1", digits: 6, period: 30 });
  const now = Date.UTC(2025, 10, 25, 9, 0, 12);

  it.each([-1, 0, 1])("accepts the app's code from offset %i", (offset) => {
    const code = app.generate({ timestamp: now + offset * 30_000 });
    expect(matchTotp(raw, code, now)).toEqual({ step: timeStep(now) + offset, offset });
  });

  it("refuses the app's codes from two steps away", () => {
    expect(matchTotp(raw, app.generate({ timestamp: now + 60_000 }), now)).toBeNull();
    expect(matchTotp(raw, app.generate({ timestamp: now - 60_000 }), now)).toBeNull();
  });

  it("produces codes the app validates, over many steps", () => {
    for (let i = 0; i < 200; i++) {
      const t = now + i * 30_000;
      const ours = totpCode(raw, t);
      expect(ours).toBe(app.generate({ timestamp: t }));
      expect(app.validate({ token: ours, timestamp: t, window: 0 })).toBe(0);
    }
  });

  it("agrees on SHA256 and SHA512 with 8 digits too", () => {
    for (const algorithm of ["sha256", "sha512"] as const) {
      const other = new TOTP({ secret: Secret.fromBase32(base32), algorithm: algorithm.toUpperCase(), digits: 8, period: 30 });
      expect(totpCode(raw, now, { algorithm, digits: 8 })).toBe(other.generate({ timestamp: now }));
    }
  });
});
