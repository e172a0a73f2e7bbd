/**
 * Redis Cluster runs a script only when all its KEYS hash to one slot (else CROSSSLOT).
 * Keys that belong together carry the same hash tag, `{...}`: both stores hold every
 * script to that, so a script written against the in-process store or a single Redis
 * cannot fail only once it meets a cluster.
 */

/** What Redis Cluster hashes a key by: the text between the first `{` and the next `}` if not empty, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** Throws unless every key shares one hash tag (one key, or the same key repeated, always does). */
export function assertOneSlot(scriptName: string, keys: readonly string[]): void {
  if (keys.length < 2) return;
  const tag = hashTagOf(keys[0]);
  const other = keys.find((key) => hashTagOf(key) !== tag);
  if (other !== undefined) {
    throw new Error(`${scriptName}: its KEYS must share one hash tag to sit in one Redis Cluster slot, got "${keys[0]}" and "${other}"`);
  }
}
