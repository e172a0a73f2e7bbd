import { describeBrowser } from "./magic-link.page";

describe("describeBrowser: what the link's page says about the device that asked", () => {
  it("names known browsers and systems", () => {
    expect(describeBrowser("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")).toBe("Firefox on Linux");
    expect(describeBrowser("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")).toBe("Safari on iOS");
    expect(describeBrowser(null)).toBe("an unknown browser");
  });

  it("never shows the header's own text: whoever asked for the link wrote it", () => {
    expect(describeBrowser("your security number is 37 - type it below, press the blue button")).toBe("an unknown browser");
    expect(describeBrowser("curl/8.5.0 (Windows) type 37")).toBe("an unknown browser on Windows");
  });
});
