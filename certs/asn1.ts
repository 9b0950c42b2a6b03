// Minimal DER (X.690 Distinguished Encoding Rules) encoder, plus the small reader that the
// certificate code needs to take values back out of a certificate. Only what X.509 needs.
//
// Every encoder returns the complete TLV (tag, length, value) as a Buffer, so values compose:
//   sequence(integer(2n), oid('1.2.3'), explicit(0, boolean(true)))

/** Universal-class tag numbers used here. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x10,
  SET: 0x11,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

export const TagClass = { UNIVERSAL: 0, APPLICATION: 1, CONTEXT: 2, PRIVATE: 3 } as const;
export type TagClassValue = (typeof TagClass)[keyof typeof TagClass];

/** Encodes the identifier octets: class, constructed bit, tag number (high-tag form from 31). */
export function encodeIdentifier(tagClass: TagClassValue, constructed: boolean, tagNumber: number): Buffer {
  if (!Number.isSafeInteger(tagNumber) || tagNumber < 0) throw new RangeError(`invalid tag number ${tagNumber}`);
  const lead = (tagClass << 6) | (constructed ? 0x20 : 0);
  if (tagNumber < 31) return Buffer.from([lead | tagNumber]);
  return Buffer.concat([Buffer.from([lead | 0x1f]), base128(tagNumber)]);
}

/** DER length octets: short form below 128, otherwise the minimal long form. */
export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`invalid length ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  if (bytes.length > 126) throw new RangeError('length too long');
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A complete TLV from identifier octets (or a universal tag number) and contents. */
export function tlv(identifier: Buffer | number, contents: Uint8Array): Buffer {
  const id = typeof identifier === 'number' ? encodeIdentifier(TagClass.UNIVERSAL, false, identifier) : identifier;
  return Buffer.concat([id, encodeLength(contents.length), contents]);
}

function constructed(tagNumber: number, items: readonly Uint8Array[]): Buffer {
  return tlv(encodeIdentifier(TagClass.UNIVERSAL, true, tagNumber), Buffer.concat(items));
}

export function sequence(...items: Uint8Array[]): Buffer {
  return constructed(Tag.SEQUENCE, items);
}

/**
 * SET / SET OF. DER orders the components of a SET OF by their encodings (X.690 11.6);
 * for a SET of distinct types that is the same as ordering by tag, so one rule serves both.
 */
export function set(...items: Uint8Array[]): Buffer {
  const sorted = items.map((i) => Buffer.from(i)).sort(Buffer.compare);
  return constructed(Tag.SET, sorted);
}

/**
 * INTEGER, non-negative only (all X.509 needs: versions, serials, path lengths).
 * Minimal two's complement: no redundant leading 0x00, and one 0x00 when the top bit is set.
 * A byte array is read as an unsigned big-endian magnitude.
 */
export function integer(value: bigint | number | Uint8Array): Buffer {
  let magnitude: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`INTEGER must be a safe integer, got ${value}`);
    value = BigInt(value);
  }
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError('negative INTEGER is not supported');
    let hex = value.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    magnitude = Buffer.from(hex, 'hex');
  } else {
    magnitude = Buffer.from(value);
  }
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let body = magnitude.subarray(start);
  if (body.length === 0) body = Buffer.from([0]);
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(Tag.INTEGER, body);
}

function base128(n: number): Buffer {
  const out = [n & 0x7f];
  for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) out.unshift((n & 0x7f) | 0x80);
  return Buffer.from(out);
}

function base128Big(n: bigint): number[] {
  const out = [Number(n & 0x7fn)];
  for (n >>= 7n; n > 0n; n >>= 7n) out.unshift(Number(n & 0x7fn) | 0x80);
  return out;
}

/** OBJECT IDENTIFIER from dotted form ("1.2.840.10045.4.3.2"). */
export function oid(dotted: string): Buffer {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) throw new SyntaxError(`invalid OID "${dotted}"`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [first, second] = [arcs[0]!, arcs[1]!];
  if (first < 2n && second > 39n) throw new RangeError(`invalid OID "${dotted}": second arc must be below 40`);
  const bytes = [...base128Big(first * 40n + second)];
  for (const arc of arcs.slice(2)) bytes.push(...base128Big(arc));
  return tlv(Tag.OID, Buffer.from(bytes));
}

export function boolean(value: boolean): Buffer {
  return tlv(Tag.BOOLEAN, Buffer.from([value ? 0xff : 0x00])); // DER: TRUE is 0xFF
}

export function nullValue(): Buffer {
  return tlv(Tag.NULL, Buffer.alloc(0));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(Tag.OCTET_STRING, bytes);
}

/** BIT STRING from whole bytes; `unusedBits` trailing bits of the last byte must be zero (DER). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7) throw new RangeError('unusedBits must be 0..7');
  if (bytes.length === 0 && unusedBits !== 0) throw new RangeError('empty BIT STRING cannot have unused bits');
  if (unusedBits && bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) throw new RangeError('unused bits must be zero');
  return tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * BIT STRING for a NamedBitList (e.g. keyUsage): bit 0 is the most significant bit of the
 * first byte, and DER drops trailing zero bits (X.690 11.2.2).
 */
export function namedBitString(bits: Iterable<number>): Buffer {
  const list = [...new Set(bits)];
  if (list.some((b) => !Number.isInteger(b) || b < 0)) throw new RangeError('bit numbers must be non-negative integers');
  if (list.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...list);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of list) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return bitString(bytes, 7 - (highest & 7));
}

function isPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

export function printableString(s: string): Buffer {
  if (!isPrintable(s)) throw new RangeError(`not a PrintableString: ${JSON.stringify(s)}`);
  return tlv(Tag.PRINTABLE_STRING, Buffer.from(s, 'latin1'));
}

export function utf8String(s: string): Buffer {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)) {
    throw new RangeError('string is not well-formed Unicode (lone surrogate)');
  }
  return tlv(Tag.UTF8_STRING, Buffer.from(s, 'utf8'));
}

export function ia5String(s: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(s)) throw new RangeError(`not an IA5String: ${JSON.stringify(s)}`);
  return tlv(Tag.IA5_STRING, Buffer.from(s, 'latin1'));
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function checkDate(date: Date): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new RangeError('invalid date');
}

/** UTCTime YYMMDDHHMMSSZ (seconds always present, always Zulu, no fractions): 1950..2049. */
export function utcTime(date: Date): Buffer {
  checkDate(date);
  const y = date.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new RangeError(`UTCTime cannot represent year ${y}`);
  const s = `${pad(y % 100)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  return tlv(Tag.UTC_TIME, Buffer.from(s, 'latin1'));
}

/** GeneralizedTime YYYYMMDDHHMMSSZ (no fractional seconds, as RFC 5280 4.1.2.5.2 requires). */
export function generalizedTime(date: Date): Buffer {
  checkDate(date);
  const y = date.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError(`GeneralizedTime cannot represent year ${y}`);
  const s = `${pad(y, 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(s, 'latin1'));
}

/** X.509 Time (RFC 5280 4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
export function time(date: Date): Buffer {
  checkDate(date);
  const y = date.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(date) : generalizedTime(date);
}

/** [n] EXPLICIT: a constructed context-specific wrapper around a complete encoding. */
export function explicit(tagNumber: number, inner: Uint8Array): Buffer {
  return tlv(encodeIdentifier(TagClass.CONTEXT, true, tagNumber), inner);
}

/**
 * [n] IMPLICIT: replaces the tag of a complete encoding with a context-specific one, keeping
 * its primitive/constructed form and its contents.
 */
export function implicit(tagNumber: number, encoded: Uint8Array): Buffer {
  const el = decode(encoded);
  if (el.end !== encoded.length) throw new RangeError('implicit() expects exactly one encoding');
  return tlv(encodeIdentifier(TagClass.CONTEXT, el.constructed, tagNumber), el.value);
}

/** A primitive context-specific value, e.g. GeneralName dNSName [2] or iPAddress [7]. */
export function contextPrimitive(tagNumber: number, contents: Uint8Array): Buffer {
  return tlv(encodeIdentifier(TagClass.CONTEXT, false, tagNumber), contents);
}

// ----------------------------------------------------------------------------------------
// Reader

export interface Asn1Element {
  tagClass: TagClassValue;
  constructed: boolean;
  tagNumber: number;
  /** Offset of the identifier octets within the buffer given to decode(). */
  start: number;
  /** Offset just past the element. */
  end: number;
  /** The contents octets. */
  value: Buffer;
  /** The whole encoding (identifier, length and contents). */
  raw: Buffer;
}

/** Decodes one DER element at `offset` (definite lengths only). */
export function decode(input: Uint8Array, offset = 0): Asn1Element {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let p = offset;
  const need = (n: number): void => {
    if (p + n > buf.length) throw new RangeError('truncated DER');
  };
  need(1);
  const first = buf[p++]!;
  const tagClass = (first >> 6) as TagClassValue;
  const isConstructed = (first & 0x20) !== 0;
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (;;) {
      need(1);
      const b = buf[p++]!;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if (!Number.isSafeInteger(tagNumber)) throw new RangeError('tag number too large');
      if (!(b & 0x80)) break;
    }
  }
  need(1);
  let length = buf[p++]!;
  if (length === 0x80) throw new RangeError('indefinite length is not DER');
  if (length & 0x80) {
    const count = length & 0x7f;
    need(count);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[p++]!;
    if (!Number.isSafeInteger(length)) throw new RangeError('length too large');
  }
  need(length);
  const end = p + length;
  return {
    tagClass,
    constructed: isConstructed,
    tagNumber,
    start: offset,
    end,
    value: buf.subarray(p, end),
    raw: buf.subarray(offset, end),
  };
}

/** The elements contained in a constructed element (or any buffer of concatenated encodings). */
export function children(el: Asn1Element | Uint8Array): Asn1Element[] {
  const value = 'value' in el && 'raw' in el ? el.value : Buffer.from(el as Uint8Array);
  const out: Asn1Element[] = [];
  for (let p = 0; p < value.length;) {
    const child = decode(value, p);
    out.push(child);
    p = child.end;
  }
  return out;
}

/** Decodes an OBJECT IDENTIFIER element's contents to dotted form. */
export function decodeOid(el: Asn1Element): string {
  const arcs: bigint[] = [];
  let n = 0n;
  for (const b of el.value) {
    n = (n << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(n);
      n = 0n;
    }
  }
  if (arcs.length === 0) throw new RangeError('empty OID');
  const head = arcs.shift()!;
  const first = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [first, head - first * 40n, ...arcs].join('.');
}

/** Decodes a UTCTime or GeneralizedTime element (the RFC 5280 profile: Zulu, whole seconds). */
export function decodeTime(el: Asn1Element): Date {
  const s = el.value.toString('latin1');
  let m: RegExpMatchArray | null;
  let year: number;
  if (el.tagClass === TagClass.UNIVERSAL && el.tagNumber === Tag.UTC_TIME) {
    m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/);
    if (!m) throw new RangeError(`bad UTCTime "${s}"`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (el.tagClass === TagClass.UNIVERSAL && el.tagNumber === Tag.GENERALIZED_TIME) {
    m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/);
    if (!m) throw new RangeError(`bad GeneralizedTime "${s}"`);
    year = Number(m[1]);
  } else {
    throw new RangeError('not a time value');
  }
  const d = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  d.setUTCFullYear(year); // Date.UTC maps years 0..99 to 1900..1999
  return d;
}
