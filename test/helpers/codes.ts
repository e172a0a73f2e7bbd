/** The six-digit code in a message's text (email, SMS, a page), or a failure that shows the text. */
export function codeIn(text: string): string {
  const match = text.match(/\b(\d{6})\b/);
  if (!match) throw new Error(`no six-digit code in: ${text}`);
  return match[1];
}
