// A bounded memo for string-keyed answers that repeat (user agents, user names in an audit log):
// at most `maxEntries` remembered (all forgotten at once when full), keys longer than `maxKeyLength`
// answered but never remembered, so a hostile value cannot grow memory.

export function boundedMemo<T>(compute: (key: string) => T, maxEntries = 4096, maxKeyLength = 1024): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    // One lookup in the common case (a remembered value is never undefined unless T allows it).
    const known = cache.get(key);
    if (known !== undefined || cache.has(key)) return known as T;
    const value = compute(key);
    if (key.length <= maxKeyLength) {
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, value);
    }
    return value;
  };
}

/**
 * A memo for strings that arrive as fresh copies, one per audit event (a user agent, a user name):
 * a Map lookup hashes the whole string each time (about 1.4 ns a character in V8), so answers sit
 * in a small direct-mapped table indexed by the length and four characters, and a hit is confirmed
 * by comparing the strings. A collision only means computing again. Keys longer than
 * `maxKeyLength` are answered but never kept, so a hostile value cannot hold memory.
 */
export function stringMemo<T>(compute: (key: string) => T, slots = 256, maxKeyLength = 1024): (key: string) => T {
  if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`stringMemo: slots must be a power of two, got ${slots}`);
  const keys: (string | undefined)[] = new Array<string | undefined>(slots).fill(undefined);
  const values: (T | undefined)[] = new Array<T | undefined>(slots).fill(undefined);
  const mask = slots - 1;
  return (key) => {
    const n = key.length;
    const i =
      n === 0 ? 0 : (n * 31 + key.charCodeAt(n - 1) * 131 + key.charCodeAt(n >> 1) * 17 + key.charCodeAt(n >> 2) * 7 + key.charCodeAt((3 * n) >> 2)) & mask;
    if (keys[i] === key) return values[i] as T;
    const value = compute(key);
    if (n <= maxKeyLength) {
      keys[i] = key;
      values[i] = value;
    }
    return value;
  };
}
