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
