// JSON-lines splitting over byte chunks: constant memory (only the unfinished line is carried),
// byte offsets for checkpoints, line numbers for error reports, and a cap on line length so that a
// file without newlines cannot make the reader buffer forever.

export interface LineHandler {
  /** A complete line (without `\n` / `\r\n`); `end` is the byte offset just past its newline. */
  line(text: string, lineNo: number, end: number): void;
  /** A line longer than the maximum: skipped, reported once with its length so far. */
  oversized(lineNo: number, bytes: number): void;
}

const NL = 10;
const CR = 13;

export class LineSplitter {
  /** Bytes consumed so far (offset of the next byte). */
  offset = 0;
  /** Number of the line being read (1-based); lines completed = lineNo - 1. */
  lineNo = 1;
  private carry: Buffer[] = [];
  private carryLen = 0;
  private skipping = false;

  constructor(
    private readonly handler: LineHandler,
    private readonly maxLineBytes: number,
    startOffset = 0,
    startLine = 1,
  ) {
    this.offset = startOffset;
    this.lineNo = startLine;
  }

  /** Byte offset just past the last complete line (where a restart resumes). */
  get committed(): number {
    return this.offset - this.carryLen - (this.skipping ? this.skippedLen : 0);
  }

  private skippedLen = 0;

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      const nl = chunk.indexOf(NL, pos);
      if (nl < 0) {
        this.hold(chunk, pos, len);
        this.offset += len - pos;
        return;
      }
      const lineNo = this.lineNo++;
      const end = this.offset + (nl + 1 - pos);
      if (this.skipping) {
        this.skipping = false;
        this.skippedLen = 0;
      } else if (this.carryLen === 0) {
        let stop = nl;
        if (stop > pos && chunk[stop - 1] === CR) stop--;
        if (nl - pos > this.maxLineBytes) this.handler.oversized(lineNo, nl - pos);
        else this.handler.line(chunk.toString('utf8', pos, stop), lineNo, end);
      } else {
        const total = this.carryLen + (nl - pos);
        if (total > this.maxLineBytes) this.handler.oversized(lineNo, total);
        else {
          this.carry.push(chunk.subarray(pos, nl));
          let buf = Buffer.concat(this.carry, total);
          if (buf.length > 0 && buf[buf.length - 1] === CR) buf = buf.subarray(0, buf.length - 1);
          this.handler.line(buf.toString('utf8'), lineNo, end);
        }
        this.carry = [];
        this.carryLen = 0;
      }
      this.offset = end;
      pos = nl + 1;
    }
  }

  /** End of input: a last line without a newline is still a line. */
  end(): void {
    if (this.skipping) {
      this.skipping = false;
      this.skippedLen = 0;
      this.lineNo++;
      return;
    }
    if (this.carryLen === 0) return;
    const buf = Buffer.concat(this.carry, this.carryLen);
    this.carry = [];
    this.carryLen = 0;
    this.handler.line(buf.toString('utf8'), this.lineNo++, this.offset);
  }

  /** Forgets the unfinished line and restarts at `offset` (a truncated file). */
  reset(offset = 0, lineNo = 1): void {
    this.carry = [];
    this.carryLen = 0;
    this.skipping = false;
    this.skippedLen = 0;
    this.offset = offset;
    this.lineNo = lineNo;
  }

  private hold(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (this.skipping) {
      this.skippedLen += n;
      return;
    }
    if (this.carryLen + n > this.maxLineBytes) {
      this.handler.oversized(this.lineNo, this.carryLen + n);
      this.skipping = true;
      this.skippedLen = this.carryLen + n;
      this.carry = [];
      this.carryLen = 0;
      return;
    }
    // Copy: the caller may reuse its buffer (fs reads into a pooled buffer).
    this.carry.push(Buffer.from(chunk.subarray(from, to)));
    this.carryLen += n;
  }
}
