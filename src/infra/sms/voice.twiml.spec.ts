import { codeReadingTwiml, spellDigits } from "./voice.twiml";

describe("spellDigits", () => {
  it("separates every digit so each is read on its own", () => {
    expect(spellDigits("Your code is 123456.")).toBe("Your code is 1, 2, 3, 4, 5, 6.");
    expect(spellDigits("Code 12-34")).toBe("Code 1, 2-3, 4");
    expect(spellDigits("no digits")).toBe("no digits");
  });
});

describe("codeReadingTwiml", () => {
  it("says the message twice with a pause between", () => {
    expect(codeReadingTwiml("Your code is 4821")).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Your code is 4, 8, 2, 1</Say><Pause length="1"/><Say>Your code is 4, 8, 2, 1</Say></Response>',
    );
  });

  it("escapes text that would otherwise be markup", () => {
    const twiml = codeReadingTwiml(`Tom & Jerry's <Play>x</Play> code`, 1);
    expect(twiml).toContain("<Say>Tom &amp; Jerry's &lt;Play&gt;x&lt;/Play&gt; code</Say>");
    expect(twiml).not.toContain("<Play>");
  });
});
