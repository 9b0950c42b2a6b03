// Audit log inputs: files (gzip detected by magic bytes, whatever the name) and stdin, read as
// streams of byte chunks; and the per-line decoding into audit events with error reports.
import { open } from 'node:fs/promises';
import { pipeline, Transform } from 'node:stream';
import { auditEventProblem, type AuditEvent } from './event.js';
import { gunzipMembers, type TrailingData } from './gunzip.js';
import { LineSplitter } from './lines.js';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const CHUNK = 1 << 20;

export interface OpenedInput {
  name: string;
  chunks: AsyncIterable<Buffer>;
  /** Size on disk (undefined for stdin); `bytesRead()` counts raw (compressed) bytes for progress. */
  size: number | undefined;
  bytesRead(): number;
  gzip: boolean;
  /** Data after the last gzip member (neither a member nor zero padding), known once `chunks` is drained. */
  readonly trailing: TrailingData | undefined;
  close(): Promise<void>;
}

/** The malformed-input report of trailing gzip data: one entry for the whole tail. */
export function trailingDataReason(t: TrailingData): string {
  return `${t.bytes} bytes of trailing data after the last gzip member, ignored (at byte ${t.offset})`;
}

/** A file could not be opened or read: the scan reports it and exits 2. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`${input}: ${message}`);
    this.name = 'InputError';
  }
}

function isGzip(head: Uint8Array, n: number): boolean {
  return n >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

export async function openAuditFile(path: string): Promise<OpenedInput> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new InputError(path, `cannot open: ${describeError(err)}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new InputError(path, 'is a directory (give audit log files, or - for stdin)');
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    const gzip = isGzip(head, bytesRead);
    const raw = fh.createReadStream({ start: 0, highWaterMark: CHUNK, autoClose: false });
    let read = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        read += chunk.length;
        done(null, chunk);
      },
    });
    // pipeline destroys every stage on an error, so a read or gunzip failure ends the iteration with it.
    const noop = (): void => undefined;
    let trailing: TrailingData | undefined;
    const chunks: AsyncIterable<Buffer> = gzip ? gunzipMembers(pipeline(raw, counter, noop), (t) => (trailing = t)) : pipeline(raw, counter, noop);
    const handle = fh;
    return {
      name: path,
      chunks,
      size: st.size,
      bytesRead: () => read,
      gzip,
      get trailing() {
        return trailing;
      },
      close: async () => {
        raw.destroy();
        await handle.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err instanceof InputError ? err : new InputError(path, `cannot read: ${describeError(err)}`);
  }
}

/** stdin (or any byte stream): gunzipped when it starts with the gzip magic bytes. */
export function openAuditStream(name: string, source: AsyncIterable<Buffer | string>): OpenedInput {
  let read = 0;
  let gzip = false;
  async function* bytes(): AsyncGenerator<Buffer> {
    for await (const c of source) {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      read += b.length;
      yield b;
    }
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    const it = bytes()[Symbol.asyncIterator]();
    let first = await it.next();
    while (!first.done && first.value.length < 2) {
      const next = await it.next();
      if (next.done) break;
      first = { done: false, value: Buffer.concat([first.value, next.value]) };
    }
    if (first.done) return;
    const head = first.value;
    gzip = isGzip(head, head.length);
    async function* rest(): AsyncGenerator<Buffer> {
      yield head;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    }
    if (!gzip) {
      yield* rest();
      return;
    }
    yield* gunzipMembers(rest(), (t) => (trailing = t));
  }
  let trailing: TrailingData | undefined;
  return {
    name,
    chunks: chunks(),
    size: undefined,
    bytesRead: () => read,
    get gzip() {
      return gzip;
    },
    get trailing() {
      return trailing;
    },
    close: async () => undefined,
  };
}

export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === 'ENOENT') return 'no such file';
  if (e && e.code === 'EACCES') return 'permission denied';
  if (e && (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR')) return `corrupt gzip data (${e.message})`;
  return e && e.message ? e.message : String(err);
}

export interface MalformedLine {
  file: string;
  line: number;
  reason: string;
}

export interface DecodeHandler {
  event(ev: AuditEvent, lineNo: number, end: number): void;
  malformed(m: MalformedLine): void;
  /**
   * When given: called with each line before it is parsed; true when the line was dealt with
   * unparsed (audit/skim.ts: a RequestReceived stage, which never alerts, or a line the analysis
   * would not look at — AuditAnalyser.skipLine).
   */
  skip?(text: string): boolean;
}

/** A LineSplitter whose lines are parsed as audit events; blank lines are skipped. */
export function eventSplitter(file: string, maxLineBytes: number, handler: DecodeHandler, startOffset = 0, startLine = 1): LineSplitter {
  return new LineSplitter(
    {
      line(text, lineNo, end) {
        if (handler.skip !== undefined && handler.skip(text)) return;
        const ev = decodeAuditLine(text);
        if (ev === undefined) return;
        if (typeof ev === 'string') handler.malformed({ file, line: lineNo, reason: ev });
        else if (Array.isArray(ev)) decodeItems(ev, file, lineNo, end, handler);
        else handler.event(ev, lineNo, end);
      },
      oversized(lineNo, bytes) {
        handler.malformed({ file, line: lineNo, reason: `line longer than ${maxLineBytes} bytes (${bytes} bytes and more), skipped` });
      },
    },
    maxLineBytes,
    startOffset,
    startLine,
  );
}

/**
 * An event, the items of a one-line `EventList` (what the audit webhook backend sends) or JSON
 * array, a reason it is not one, or undefined for a blank line.
 */
export function decodeAuditLine(text: string): AuditEvent | unknown[] | string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (text.trim() === '') return undefined;
    return `invalid JSON: ${(err as Error).message}`;
  }
  const items = batchItems(value);
  if (items) return items;
  const problem = auditEventProblem(value);
  return problem === undefined ? (value as AuditEvent) : `not an audit event: ${problem}`;
}

/** The items of an audit `EventList` or of a JSON array; undefined for anything else. */
export function batchItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'EventList') {
    const items = (value as { items?: unknown }).items;
    return Array.isArray(items) ? items : [];
  }
  return undefined;
}

function decodeItems(items: unknown[], file: string, lineNo: number, end: number, handler: DecodeHandler): void {
  items.forEach((item, i) => {
    const problem = auditEventProblem(item);
    if (problem === undefined) handler.event(item as AuditEvent, lineNo, end);
    else handler.malformed({ file, line: lineNo, reason: `items[${i}]: not an audit event: ${problem}` });
  });
}

/** Largest whole JSON document (a pretty-printed `EventList` or array) `audit scan` reads: 64 MiB. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/**
 * The input decoder of `audit scan`: JSON lines (each line an event, or a one-line EventList /
 * array), or ONE whole JSON document spanning several lines — an `EventList` or array as saved
 * from the audit webhook, pretty-printed. The format is chosen from the start of the input: a
 * `[`, or a first line that is not JSON by itself, means a document. A document is buffered up
 * to `maxDocumentBytes`; larger, or not valid JSON as a whole, it is read as JSON lines after all
 * (so every bad line is still reported with its number).
 */
export class AuditDecoder {
  private mode: 'sniff' | 'lines' | 'document' = 'sniff';
  private held: Buffer[] = [];
  private heldLen = 0;
  readonly splitter: LineSplitter;

  constructor(
    private readonly file: string,
    maxLineBytes: number,
    private readonly handler: DecodeHandler,
    private readonly maxDocumentBytes = MAX_DOCUMENT_BYTES,
  ) {
    this.splitter = eventSplitter(file, maxLineBytes, handler);
  }

  get lineNo(): number {
    return this.splitter.lineNo;
  }

  push(chunk: Buffer): void {
    if (this.mode === 'lines') return this.splitter.push(chunk);
    this.held.push(chunk);
    this.heldLen += chunk.length;
    if (this.mode === 'sniff') this.sniff(false);
    else if (this.heldLen > this.maxDocumentBytes)
      this.toLines(`a whole JSON document is read up to ${this.maxDocumentBytes} bytes; read as JSON lines instead`);
  }

  end(): void {
    if (this.mode === 'sniff') this.sniff(true);
    if (this.mode === 'document') {
      const text = Buffer.concat(this.held).toString('utf8');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        this.toLines();
        this.splitter.end();
        return;
      }
      const items = batchItems(value);
      const lines = text.split('\n').length;
      if (items) decodeItems(items, this.file, 1, this.heldLen, this.handler);
      else {
        const problem = auditEventProblem(value);
        if (problem === undefined) this.handler.event(value as AuditEvent, 1, this.heldLen);
        else this.handler.malformed({ file: this.file, line: 1, reason: `not an audit event: ${problem}` });
      }
      this.splitter.lineNo = lines;
      this.held = [];
      return;
    }
    this.splitter.end();
  }

  private sniff(atEnd: boolean): void {
    const head = Buffer.concat(this.held);
    this.held = [head];
    let i = 0;
    while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
    if (i === head.length) {
      if (atEnd || head.length > this.maxDocumentBytes) this.toLines();
      return;
    }
    if (head[i] === 0x5b /* [ */) {
      this.mode = 'document';
      return;
    }
    if (head[i] !== 0x7b /* { */) return this.toLines();
    const nl = head.indexOf(0x0a, i);
    if (nl < 0 && !atEnd) {
      if (head.length > this.maxDocumentBytes) this.toLines();
      return;
    }
    const first = head.subarray(i, nl < 0 ? head.length : nl).toString('utf8');
    try {
      JSON.parse(first);
      this.toLines();
    } catch {
      this.mode = 'document';
    }
  }

  private toLines(note?: string): void {
    if (note) this.handler.malformed({ file: this.file, line: 1, reason: note });
    this.mode = 'lines';
    const held = this.held;
    this.held = [];
    this.heldLen = 0;
    for (const b of held) this.splitter.push(b);
  }
}
