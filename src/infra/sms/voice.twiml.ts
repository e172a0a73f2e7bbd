import twilio from "twilio";

/** "Your code is 123456" → "Your code is 1, 2, 3, 4, 5, 6": the commas make the voice pause. */
export function spellDigits(text: string): string {
  return text.replace(/\d+/g, (run) => run.split("").join(", "));
}

/**
 * TwiML for a call that reads the message with every digit on its own, twice with a
 * pause between, so the person can write the code down. VoiceResponse escapes the text.
 */
export function codeReadingTwiml(text: string, repeat = 2): string {
  const response = new twilio.twiml.VoiceResponse();
  const spoken = spellDigits(text);
  for (let i = 0; i < repeat; i++) {
    if (i > 0) response.pause({ length: 1 });
    response.say(spoken);
  }
  return response.toString();
}
