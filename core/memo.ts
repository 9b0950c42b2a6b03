// A bounded memo for string-keyed answers that repeat (user agents, user names in an audit log):
// at most `maxEntries` remembered (all forgotten at once when full), keys longer than `maxKeyLength`
// answered but never remembered, so a hostile value cannot grow memory. A key is kept as its own
// copy (ownCopy): a user agent cut from an audit line must not keep the line alive.

/**
 * A string that holds its own characters. V8 makes a substring of 13 characters or more (a
 * `slice`, a regular expression's capture) a view of the string it was cut from, which then stays
 * in memory as long as the substring does: a 60-character user agent kept from a 64 KiB audit line
 * would keep the 64 KiB. Prepending a character makes a rope that slicing flattens into a new string.
 */
export function ownCopy(s: string): string {
  return (' ' + s).slice(1);
}

export function boundedMemo<T>(compute: (key: string) => T, maxEntries = 4096, maxKeyLength = 1024): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    // One lookup in the common case (a remembered value is never undefined unless T allows it).
    const known = cache.get(key);
    if (known !== undefined || cache.has(key)) return known as T;
    const value = compute(key);
    if (key.length <= maxKeyLength) {
      if (cache.size >= maxEntries) cache.clear();
      cache.set(ownCopy(key), value);
    }
    return value;
  };
}

/**
 * A memo for strings that arrive as fresh copies, one per audit event (a user agent, a user name):
 * a Map lookup hashes the whole string each time (about 1.4 ns a character in V8), so answers sit
 * in a small direct-mapped table indexed by a cheaper hash (`slotOf`), and a hit is confirmed by
 * comparing the strings. A collision only means computing again. Keys longer than
 * `maxKeyLength` are answered but never kept, so a hostile value cannot hold memory.
 */
export function stringMemo<T>(compute: (key: string) => T, slots = 256, maxKeyLength = 1024): (key: string) => T {
  if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`stringMemo: slots must be a power of two, got ${slots}`);
  const keys: (string | undefined)[] = new Array<string | undefined>(slots).fill(undefined);
  const values: (T | undefined)[] = new Array<T | undefined>(slots).fill(undefined);
  const mask = slots - 1;
  return (key) => {
    const i = slotOf(key) & mask;
    if (keys[i] === key) return values[i] as T;
    const value = compute(key);
    if (key.length <= maxKeyLength) {
      keys[i] = ownCopy(key);
      values[i] = value;
    }
    return value;
  };
}

/**
 * A 32-bit hash of a string for `stringMemo`: every character of a short one (names that differ in
 * one digit, `worker-1` and `worker-2`, must not share a slot), about 16 of a long one (8 spread
 * over it, and the last 8, where user agents and paths differ).
 */
export function slotOf(key: string): number {
  const n = key.length;
  let h = n;
  if (n <= 32) {
    for (let i = 0; i < n; i++) h = Math.imul(h, 31) + key.charCodeAt(i);
  } else {
    const step = n >>> 3;
    for (let i = 0; i < n - 8; i += step) h = Math.imul(h, 31) + key.charCodeAt(i);
    for (let i = n - 8; i < n; i++) h = Math.imul(h, 31) + key.charCodeAt(i);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}
