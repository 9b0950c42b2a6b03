// gzip decoding member by member (RFC 1952), so that bytes after the last member are reported
// instead of costing the lines before them. zlib's own gunzip stream treats anything after a member
// as the start of another one: trailing garbage then fails the whole write that held it, and the
// output of that write (the end of the last member, complete lines included) is never delivered.
//
// Here each member's header is parsed by hand, its deflate body goes through an InflateRaw stream one
// bounded input chunk at a time (every chunk's output is delivered before the next is written), and
// where the body ends is known from the stream's own count of consumed bytes. After a member:
// - another gzip header: the next member (`cat a.gz b.gz`);
// - only zero bytes: padding, ignored (as gzip(1) does);
// - anything else: trailing data, reported once through `onTrailing` with its size; not an error.
// A member that starts well but whose body is corrupt or cut short is an error (corrupt gzip), after
// every line decoded before it has been delivered.
import { createInflateRaw, type InflateRaw } from 'node:zlib';

/** Input handed to the inflater at once: bounds the output of one step (deflate expands at most ~1032×). */
const STEP = 16 * 1024;
const FTEXT_MASK = 0xe0; // reserved flag bits must be zero
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
/** Longest member header read (extra field, name and comment included): gzip(1) writes a few dozen bytes. */
const MAX_HEADER = 64 * 1024;

export interface TrailingData {
  /** Bytes after the last complete member (zero padding excluded when it is all there is). */
  bytes: number;
  /** Offset of the trailing data in the compressed input. */
  offset: number;
}

/** Pulls bytes from an async source with look-ahead; `offset` counts bytes consumed. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  offset = 0;
  private readonly it: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** At least `n` bytes buffered; false when the source ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const next = await this.it.next();
      if (next.done) this.done = true;
      else if (next.value.length > 0) this.buf = this.buf.length === 0 ? next.value : Buffer.concat([this.buf, next.value]);
    }
    return this.buf.length >= n;
  }

  peek(n: number): Buffer {
    return this.buf.subarray(0, n);
  }

  get buffered(): number {
    return this.buf.length;
  }

  take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += out.length;
    return out;
  }

  /** Some bytes (at most `max`), or undefined at the end of the source. */
  async some(max: number): Promise<Buffer | undefined> {
    if (!(await this.ensure(1))) return undefined;
    return this.take(Math.min(max, this.buf.length));
  }

  /** Gives back the unconsumed tail of what `some` returned. */
  unshift(b: Buffer): void {
    if (b.length === 0) return;
    this.buf = this.buf.length === 0 ? b : Buffer.concat([b, this.buf]);
    this.offset -= b.length;
  }

  /** Consumes the rest of the source; returns [bytes, whether all were zero]. */
  async drain(): Promise<[number, boolean]> {
    let bytes = 0;
    let zeros = true;
    for (;;) {
      if (this.buf.length === 0 && !(await this.ensure(1))) return [bytes, zeros];
      const b = this.take(this.buf.length);
      bytes += b.length;
      if (zeros)
        for (let i = 0; i < b.length; i++)
          if (b[i] !== 0) {
            zeros = false;
            break;
          }
    }
  }
}

export class GzipError extends Error {
  readonly code = 'Z_DATA_ERROR';
  constructor(message: string) {
    super(message);
    this.name = 'GzipError';
  }
}

/** Skips a gzip member header; false when what follows is not one (nothing consumed then). */
async function readHeader(r: ByteReader): Promise<boolean> {
  if (!(await r.ensure(10))) return false;
  const h = r.peek(10);
  if (h[0] !== 0x1f || h[1] !== 0x8b || h[2] !== 8 || (h[3]! & FTEXT_MASK) !== 0) return false;
  const flags = h[3]!;
  let need = 10;
  if (flags & FEXTRA) {
    if (!(await r.ensure(need + 2))) return false;
    const x = r.peek(need + 2);
    need += 2 + (x[need]! | (x[need + 1]! << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    // A zero-terminated string: look for the terminator, reading on as needed (bounded by the input).
    for (;;) {
      if (!(await r.ensure(need + 1))) return false;
      const view = r.peek(r.buffered);
      const z = view.indexOf(0, need);
      if (z >= 0) {
        need = z + 1;
        break;
      }
      if (view.length > MAX_HEADER) throw new GzipError(`gzip member header longer than ${MAX_HEADER} bytes`);
      if (!(await r.ensure(view.length + 1))) return false;
    }
  }
  if (need > MAX_HEADER) throw new GzipError(`gzip member header longer than ${MAX_HEADER} bytes`);
  if (flags & FHCRC) need += 2;
  if (!(await r.ensure(need))) return false;
  r.take(need);
  return true;
}

/** Writes one chunk; resolves once the inflater has processed it (its output is in the 'data' handler's list). */
function step(inflater: InflateRaw, chunk: Buffer, state: { ended: boolean; error: Error | undefined }): Promise<void> {
  return new Promise((resolve) => {
    if (state.error) return resolve();
    // On an error zlib never calls the write callback: the error event settles the step instead.
    const settle = (): void => {
      inflater.off('error', settle);
      setImmediate(resolve);
    };
    inflater.once('error', settle);
    inflater.write(chunk, settle);
  });
}

/**
 * The decompressed bytes of a gzip input (one or more members). `onTrailing` hears of data after
 * the last member that is neither a member nor zero padding. Throws GzipError on a corrupt or
 * truncated member, after yielding everything decoded before it.
 */
export async function* gunzipMembers(source: AsyncIterable<Buffer>, onTrailing: (t: TrailingData) => void): AsyncGenerator<Buffer> {
  const r = new ByteReader(source);
  let members = 0;
  for (;;) {
    if (!(await r.ensure(1))) return;
    const start = r.offset;
    if (!(await readHeader(r))) {
      if (members === 0) throw new GzipError('not a gzip stream (bad header)');
      const [bytes, zeros] = await r.drain();
      if (!zeros) onTrailing({ bytes, offset: start });
      return;
    }
    const inflater = createInflateRaw();
    const out: Buffer[] = [];
    const state: { ended: boolean; error: Error | undefined } = { ended: false, error: undefined };
    inflater.on('data', (d: Buffer) => out.push(d));
    inflater.on('end', () => (state.ended = true));
    inflater.on('error', (err: Error) => (state.error = err));
    let fed = 0;
    try {
      for (;;) {
        const chunk = await r.some(STEP);
        if (chunk === undefined) throw new GzipError(`unexpected end of file inside gzip member ${members + 1}`);
        fed += chunk.length;
        await step(inflater, chunk, state);
        if (state.error) throw new GzipError(`${state.error.message} (gzip member ${members + 1})`);
        if (!state.ended) {
          // 'end' follows the last 'data' asynchronously: give it one more turn when the output stalls.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        for (const o of out.splice(0)) yield o;
        if (state.ended) {
          r.unshift(chunk.subarray(chunk.length - (fed - inflater.bytesWritten)));
          break;
        }
      }
    } finally {
      inflater.destroy();
    }
    // CRC-32 and ISIZE.
    if (!(await r.ensure(8))) throw new GzipError(`unexpected end of file in the trailer of gzip member ${members + 1}`);
    r.take(8);
    members++;
  }
}
