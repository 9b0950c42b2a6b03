// How deeply a JSON text nests, found before JSON.parse. V8 parses deep nesting without a stack
// overflow, but it costs ~15 times more per byte than an ordinary object (a 400 KB body of nested
// arrays blocks the event loop for ~40 ms), so a caller of an admission or audit route could stall
// every review behind it. Kubernetes objects nest a few dozen levels.
//
// The admission hot path pays for this check on every review, so it starts with a bound that the
// engine computes natively: a text cannot nest deeper than the number of `{` and `[` characters it
// holds (in strings or not). A review of a few hundred brackets is cleared by counting them
// (indexOf: ~2.5 µs for a 12.6 KB Deployment review decoded, against ~12 µs for the byte walk);
// only a text with more than `max` of them is walked byte by byte, strings skipped.

/** Nesting deeper than this is refused before parsing. */
export const MAX_JSON_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether the JSON text in `bytes` (UTF-8) opens more than `max` objects or arrays inside one
 * another (brackets inside strings do not count). `text`, when the caller has already decoded the
 * bytes, makes the first count faster; it must be those same bytes decoded (no byte of a multi-byte
 * UTF-8 sequence is ASCII, so both hold the same brackets). Linear, no allocation; invalid JSON is
 * left to JSON.parse.
 */
export function nestsDeeperThan(bytes: Uint8Array, max = MAX_JSON_DEPTH, text?: string): boolean {
  const few = text !== undefined ? atMostOpeningsInText(text, max) : atMostOpeningsInBytes(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), max);
  return !few && walk(bytes, max);
}

/** True when the text holds at most `max` `{` and `[` characters in all (so it cannot nest deeper). */
function atMostOpeningsInText(text: string, max: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++n > max) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++n > max) return false;
  return true;
}

function atMostOpeningsInBytes(buf: Buffer, max: number): boolean {
  let n = 0;
  for (let i = buf.indexOf(OPEN_BRACE); i !== -1; i = buf.indexOf(OPEN_BRACE, i + 1)) if (++n > max) return false;
  for (let i = buf.indexOf(OPEN_BRACKET); i !== -1; i = buf.indexOf(OPEN_BRACKET, i + 1)) if (++n > max) return false;
  return true;
}

function walk(buf: Uint8Array, max: number): boolean {
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
