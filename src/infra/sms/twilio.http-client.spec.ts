import { TwilioHttpClient } from "./twilio.http-client";

describe("TwilioHttpClient.rebase", () => {
  const uri = "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json";

  it("leaves Twilio's URL alone without a base URL", () => {
    expect(new TwilioHttpClient().rebase(uri)).toBe(uri);
  });

  it("swaps the origin for the base URL, keeping its path and dropping a trailing slash", () => {
    expect(new TwilioHttpClient({ baseUrl: "http://127.0.0.1:9000" }).rebase(uri)).toBe(
      "http://127.0.0.1:9000/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json",
    );
    expect(new TwilioHttpClient({ baseUrl: "https://proxy.internal/twilio/" }).rebase(uri)).toBe(
      "https://proxy.internal/twilio/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json",
    );
  });

  it("does not touch other hosts, even ones that start alike", () => {
    const client = new TwilioHttpClient({ baseUrl: "http://127.0.0.1:9000" });
    expect(client.rebase("https://verify.twilio.com/v2/Services")).toBe("https://verify.twilio.com/v2/Services");
    expect(client.rebase("https://api.twilio.com.evil.test/x")).toBe("https://api.twilio.com.evil.test/x");
  });
});
