// The JSON-lines splitter: chunk boundaries anywhere, CRLF, a last line without newline, byte
// offsets for checkpoints, and the line-length cap.
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../audit/lines.js';

function split(chunks: Buffer[], max = 1 << 20) {
  const out: { text: string; line: number; end: number }[] = [];
  const big: { line: number; bytes: number }[] = [];
  const s = new LineSplitter({ line: (text, line, end) => out.push({ text, line, end }), oversized: (line, bytes) => big.push({ line, bytes }) }, max);
  for (const c of chunks) s.push(c);
  const committedBeforeEnd = s.committed;
  s.end();
  return { out, big, committedBeforeEnd };
}

describe('LineSplitter', () => {
  const text = Buffer.from('{"a":1}\r\n{"b":"é"}\n\n{"c":3}');

  it.each([1, 2, 3, 7, 100])('gives the same lines for chunks of %i bytes', (size) => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; i += size) chunks.push(text.subarray(i, i + size));
    const { out, committedBeforeEnd } = split(chunks);
    expect(out.map((l) => l.text)).toEqual(['{"a":1}', '{"b":"é"}', '', '{"c":3}']);
    expect(out.map((l) => l.line)).toEqual([1, 2, 3, 4]);
    expect(out[1]!.end).toBe(Buffer.byteLength('{"a":1}\r\n{"b":"é"}\n'));
    expect(committedBeforeEnd).toBe(text.length - '{"c":3}'.length);
  });

  it('skips lines over the maximum, in one chunk or across many, and reads the next', () => {
    const long = 'x'.repeat(50);
    const input = Buffer.from(`${long}\nok\n${long}`);
    for (const size of [5, 1000]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size));
      const { out, big } = split(chunks, 20);
      expect(out.map((l) => l.text)).toEqual(['ok']);
      expect(out[0]!.line).toBe(2);
      expect(big.map((b) => b.line)).toEqual([1, 3]);
    }
  });
});
