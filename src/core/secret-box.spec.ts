import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { generateKeyEntry, parseKeyList, SecretBox, SecretBoxError, type SecretBoxErrorReason } from "./secret-box";

const key = (fill?: number) => (fill === undefined ? randomBytes(32) : Buffer.alloc(32, fill));
const SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const USER = "user_42";
const SEALED_FORMAT = /^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/;

/** The error's reason, after checking its message leaks neither plaintext nor key. */
function refusal(run: () => unknown, secrets: Array<string | Buffer> = []): SecretBoxErrorReason {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SecretBoxError);
  const { message, reason } = error as SecretBoxError;
  for (const secret of secrets) {
    const forms = typeof secret === "string" ? [secret] : [secret.toString("base64"), secret.toString("base64url"), secret.toString("hex")];
    for (const form of forms.filter((f) => f !== "")) expect(message).not.toContain(form);
  }
  return reason;
}

/** Flips one bit of a base64url part, re-encoding it canonically. */
function flipBit(part: string): string {
  const bytes = Buffer.from(part, "base64url");
  bytes[0] ^= 0x01;
  return bytes.toString("base64url");
}

function withPart(sealed: string, index: number, value: string): string {
  const parts = sealed.split(".");
  parts[index] = value;
  return parts.join(".");
}

describe("SecretBox.seal / open", () => {
  const k1 = key();
  const box = new SecretBox([{ id: "k1", key: k1 }]);

  it("round-trips a string and a Buffer", () => {
    expect(box.open(box.seal(SECRET, USER), USER).toString("utf8")).toBe(SECRET);
    const raw = randomBytes(20);
    expect(box.open(box.seal(raw, USER), USER)).toEqual(raw);
  });

  it("round-trips without aad and with an empty plaintext", () => {
    expect(box.open(box.seal(SECRET)).toString()).toBe(SECRET);
    expect(box.open(box.seal(Buffer.alloc(0), USER), USER)).toHaveLength(0);
  });

  it("writes v1.<keyId>.<iv>.<ciphertext>.<tag> in base64url, never the plaintext", () => {
    const sealed = box.seal(SECRET, USER);
    expect(sealed).toMatch(SEALED_FORMAT);
    expect(sealed).not.toContain(SECRET);
    expect(Buffer.from(sealed.split(".")[3], "base64url")).toHaveLength(SECRET.length);
  });

  it("uses a fresh IV every time, so sealing the same secret twice differs", () => {
    const a = box.seal(SECRET, USER);
    const b = box.seal(SECRET, USER);
    expect(a).not.toBe(b);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
    expect(box.open(a, USER).toString()).toBe(SECRET);
    expect(box.open(b, USER).toString()).toBe(SECRET);
  });

  describe("refuses a tampered value", () => {
    const sealed = box.seal(SECRET, USER);
    it.each([
      ["the IV", 2],
      ["the ciphertext", 3],
      ["the tag", 4],
    ])("one bit of %s", (_name, index) => {
      expect(refusal(() => box.open(withPart(sealed, index, flipBit(sealed.split(".")[index])), USER), [SECRET, k1])).toBe("rejected");
    });

    it("a ciphertext cut short or lengthened", () => {
      const ct = Buffer.from(sealed.split(".")[3], "base64url");
      expect(refusal(() => box.open(withPart(sealed, 3, ct.subarray(1).toString("base64url")), USER))).toBe("rejected");
      expect(refusal(() => box.open(withPart(sealed, 3, Buffer.concat([ct, Buffer.of(0)]).toString("base64url")), USER))).toBe("rejected");
    });

    it("the version", () => {
      expect(refusal(() => box.open(withPart(sealed, 0, "v2"), USER))).toBe("format");
    });

    it("the key id, to one the box does not hold", () => {
      expect(refusal(() => box.open(withPart(sealed, 1, "k9"), USER))).toBe("unknown-key");
    });

    it("the key id, relabelled to another key the box holds", () => {
      const both = new SecretBox([{ id: "k1", key: k1 }, { id: "k0", key: k1 }]);
      // Even under the same key bytes, the id is authenticated.
      expect(refusal(() => both.open(withPart(sealed, 1, "k0"), USER))).toBe("rejected");
    });

    it.each([
      ["a short IV", (s: string) => withPart(s, 2, Buffer.alloc(8).toString("base64url"))],
      ["a short tag", (s: string) => withPart(s, 4, Buffer.alloc(12).toString("base64url"))],
      ["a missing part", (s: string) => s.split(".").slice(0, 4).join(".")],
      ["an extra part", (s: string) => `${s}.AAAA`],
      ["standard base64 characters", (s: string) => withPart(s, 3, "ab+/")],
      ["padding", (s: string) => withPart(s, 4, `${s.split(".")[4]}==`)],
      ["non-canonical spare bits in the tag", (s: string) => {
        // 16 bytes take 22 characters; the last one's low 4 bits are spare, and Node's decoder ignores them.
        const tag = s.split(".")[4];
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const last = alphabet[alphabet.indexOf(tag.at(-1) ?? "A") ^ 0b0001];
        expect(Buffer.from(tag.slice(0, -1) + last, "base64url")).toEqual(Buffer.from(tag, "base64url"));
        return withPart(s, 4, tag.slice(0, -1) + last);
      }],
      ["an empty string", () => ""],
      ["a bare base32 secret", () => SECRET],
    ])("%s", (_name, mangle) => {
      const mangled = mangle(sealed);
      expect(refusal(() => box.open(mangled, USER), [SECRET, k1])).toBe("format");
    });
  });

  describe("binds aad (the owner)", () => {
    const sealed = box.seal(SECRET, USER);
    it("refuses another user's id", () => {
      expect(refusal(() => box.open(sealed, "user_43"), [SECRET, k1])).toBe("rejected");
    });
    it("refuses a missing aad, and an aad the seal did not have", () => {
      expect(refusal(() => box.open(sealed))).toBe("rejected");
      expect(refusal(() => box.open(box.seal(SECRET), USER))).toBe("rejected");
    });
  });

  it("never shows its keys when logged", () => {
    expect(inspect(box, { showHidden: true, depth: 5 })).not.toContain(k1.toString("hex"));
    expect(JSON.stringify(box)).not.toContain(k1.toString("base64"));
    expect(Object.keys(box)).toEqual([]);
  });

  it("copies its keys, so a caller reusing the buffer changes nothing", () => {
    const mutable = key(7);
    const own = new SecretBox([{ id: "k1", key: mutable }]);
    const sealed = own.seal(SECRET);
    mutable.fill(0);
    expect(own.open(sealed).toString()).toBe(SECRET);
  });
});

describe("key rotation", () => {
  const oldKey = { id: "k1", key: key() };
  const newKey = { id: "k2", key: key() };
  const before = new SecretBox([oldKey]);
  const after = new SecretBox([newKey, oldKey]);
  const sealedBefore = before.seal(SECRET, USER);

  it("opens what the previous key sealed", () => {
    expect(after.open(sealedBefore, USER).toString()).toBe(SECRET);
  });

  it("seals with the first (current) key", () => {
    expect(after.currentKeyId).toBe("k2");
    expect(after.seal(SECRET, USER).split(".")[1]).toBe("k2");
  });

  it("says which values need re-sealing, and a re-seal clears it", () => {
    expect(after.needsReseal(sealedBefore)).toBe(true);
    const resealed = after.seal(after.open(sealedBefore, USER), USER);
    expect(after.needsReseal(resealed)).toBe(false);
    expect(after.open(resealed, USER).toString()).toBe(SECRET);
    expect(before.needsReseal(sealedBefore)).toBe(false);
  });

  it("once the old key is dropped, its values no longer open", () => {
    const onlyNew = new SecretBox([newKey]);
    expect(refusal(() => onlyNew.open(sealedBefore, USER))).toBe("unknown-key");
  });

  it("needsReseal refuses a malformed value rather than guessing", () => {
    expect(refusal(() => after.needsReseal("not sealed"))).toBe("format");
  });
});

describe("SecretBox keys", () => {
  it.each([0, 16, 24, 31, 33, 64])("refuses a %i-byte key", (size) => {
    const bad = randomBytes(size);
    expect(refusal(() => new SecretBox([{ id: "k1", key: bad }]), [bad])).toBe("config");
  });

  it("refuses a bad key among good ones", () => {
    expect(refusal(() => new SecretBox([{ id: "k2", key: key() }, { id: "k1", key: randomBytes(31) }]))).toBe("config");
  });

  it("refuses an empty key list", () => {
    expect(refusal(() => new SecretBox([]))).toBe("config");
  });

  it("refuses duplicate ids", () => {
    expect(refusal(() => new SecretBox([{ id: "k1", key: key() }, { id: "k1", key: key() }]))).toBe("config");
  });

  it.each(["", "a.b", "a:b", "a b", "ä", "x".repeat(65)])("refuses the id %j", (id) => {
    expect(refusal(() => new SecretBox([{ id, key: key() }]))).toBe("config");
  });

  it("accepts ids of letters, digits, _ and -", () => {
    expect(new SecretBox([{ id: "2025-11_rotation-B", key: key() }]).currentKeyId).toBe("2025-11_rotation-B");
  });
});

describe("parseKeyList", () => {
  const a = key(1);
  const b = key(2);
  const c = key(3);

  it("reads <id>:<base64> for the current key and a comma-separated previous list", () => {
    const keys = parseKeyList(`k3:${c.toString("base64")}`, ` k2:${b.toString("base64")} , k1:${a.toString("base64")} `);
    expect(keys).toEqual([
      { id: "k3", key: c },
      { id: "k2", key: b },
      { id: "k1", key: a },
    ]);
    expect(new SecretBox(keys).currentKeyId).toBe("k3");
  });

  it("gives a bare base64 key the id k1", () => {
    expect(parseKeyList(a.toString("base64"))).toEqual([{ id: "k1", key: a }]);
    expect(parseKeyList(`k2:${b.toString("base64")}`, a.toString("base64"))).toEqual([
      { id: "k2", key: b },
      { id: "k1", key: a },
    ]);
  });

  it("accepts base64url and unpadded base64", () => {
    const tricky = Buffer.alloc(32, 0xfb); // encodes with + and / in standard base64
    expect(tricky.toString("base64")).toMatch(/[+/]/);
    expect(parseKeyList(`k1:${tricky.toString("base64url")}`)).toEqual([{ id: "k1", key: tricky }]);
    expect(parseKeyList(`k1:${tricky.toString("base64").replace(/=+$/, "")}`)).toEqual([{ id: "k1", key: tricky }]);
  });

  it("treats an empty previous list as none", () => {
    expect(parseKeyList(a.toString("base64"), "")).toHaveLength(1);
    expect(parseKeyList(a.toString("base64"), " , ")).toHaveLength(1);
  });

  it.each([
    ["an empty current key", "", undefined],
    ["a 16-byte key", `k1:${randomBytes(16).toString("base64")}`, undefined],
    ["a 33-byte previous key", `k2:${key().toString("base64")}`, `k1:${randomBytes(33).toString("base64")}`],
    ["something that is not base64", "k1:not base64!", undefined],
    ["two bare keys (both k1)", key().toString("base64"), key().toString("base64")],
    ["a bad id", `k.1:${key().toString("base64")}`, undefined],
  ])("refuses %s, without echoing it", (_name, current, previous) => {
    const secrets = [current, previous ?? ""].flatMap((entry) => entry.split(/[,:]/)).filter((part) => part.length > 20);
    expect(refusal(() => parseKeyList(current, previous), secrets)).toBe("config");
  });

  it("does not echo a key pasted where the id goes", () => {
    const pasted = key().toString("base64");
    expect(refusal(() => parseKeyList(`${pasted}:${key().toString("base64")}`), [pasted])).toBe("config");
  });
});

describe("generateKeyEntry", () => {
  it("makes an entry parseKeyList reads as a fresh 32-byte key", () => {
    const [entry] = parseKeyList(generateKeyEntry("k7"));
    expect(entry.id).toBe("k7");
    expect(entry.key).toHaveLength(32);
    expect(generateKeyEntry()).not.toBe(generateKeyEntry());
  });
});
