// How deeply a JSON text nests, found by one pass over its bytes before JSON.parse. V8 parses deep
// nesting without a stack overflow, but it costs ~15 times more per byte than an ordinary object
// (a 400 KB body of nested arrays blocks the event loop for ~40 ms), so a caller of an admission
// or audit route could stall every review behind it. Kubernetes objects nest a few dozen levels.

/** Nesting deeper than this is refused before parsing. */
export const MAX_JSON_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether the JSON text in `buf` opens more than `max` objects or arrays inside one another
 * (brackets inside strings do not count). Linear, no allocation; invalid JSON is left to JSON.parse.
 */
export function nestsDeeperThan(buf: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  const n = buf.length;
  for (let i = 0; i < n; i++) {
    const c = buf[i]!;
    if (c === QUOTE) {
      // Skip the string: to the next quote that no backslash escapes.
      for (i++; i < n; i++) {
        const s = buf[i]!;
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
