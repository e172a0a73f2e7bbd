import { assertOneSlot, hashTagOf } from "./one-slot";

describe("hashTagOf", () => {
  it("is the text in the first braces, as Redis Cluster hashes it", () => {
    expect(hashTagOf("otp:{SIGN_IN:abc}:challenge:1")).toBe("SIGN_IN:abc");
    expect(hashTagOf("prefix:{a}{b}")).toBe("a");
    expect(hashTagOf("x{a}y}")).toBe("a");
  });

  it("is the whole key without a tag, or with empty braces first", () => {
    expect(hashTagOf("plain:key")).toBe("plain:key");
    expect(hashTagOf("a{}b{c}")).toBe("a{}b{c}");
    expect(hashTagOf("open{only")).toBe("open{only");
  });
});

describe("assertOneSlot", () => {
  it("lets one key, repeated keys and keys with one tag through", () => {
    expect(() => assertOneSlot("s", [])).not.toThrow();
    expect(() => assertOneSlot("s", ["a"])).not.toThrow();
    expect(() => assertOneSlot("s", ["a", "a"])).not.toThrow();
    expect(() => assertOneSlot("s", ["x:{t}:1", "y:{t}:2"])).not.toThrow();
  });

  it("refuses keys in different slots, naming the script and the keys", () => {
    expect(() => assertOneSlot("otp-verify", ["otp:challenge:1", "otp:current:2"])).toThrow(
      'otp-verify: its KEYS must share one hash tag to sit in one Redis Cluster slot, got "otp:challenge:1" and "otp:current:2"',
    );
    expect(() => assertOneSlot("s", ["x:{t}:1", "x:{u}:1"])).toThrow(/one hash tag/);
  });
});
