// core/: the one duration parser, the one size parser, atomic writes, did-you-mean.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicAsync } from '../../core/atomic-write.js';
import { parseDuration, parseDurationSetting } from '../../core/duration.js';
import { parseByteSize } from '../../core/size.js';
import { suggest } from '../../core/suggest.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../core/json-depth.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    [' 10 m ', 600_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDurationSetting(text)).toBe(ms);
  });

  it.each(['', 'soon', '10', '-5s', '10 minutes', '1y', 'm10', '10mm'])('parseDuration refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('in config a bare number is seconds; negative, infinite and other types are refused', () => {
    expect(parseDurationSetting(600)).toBe(600_000);
    expect(parseDurationSetting('600')).toBe(600_000);
    expect(parseDurationSetting(0.25)).toBe(250);
    for (const bad of [-1, Infinity, NaN, true, null, [], {}]) expect(parseDurationSetting(bad)).toBeUndefined();
  });

  it('stays linear on a long hostile string', () => {
    expect(parseDuration('1m'.repeat(50_000) + 'x')).toBeUndefined();
  });
});

describe('byte sizes', () => {
  it.each([
    [1024, 1024],
    ['1024', 1024],
    ['512Ki', 524_288],
    ['512KiB', 524_288],
    ['6Mi', 6_291_456],
    ['6MiB', 6_291_456],
    ['1Gi', 1_073_741_824],
    [' 2 mi ', 2_097_152],
  ])('reads %j as %d bytes', (value, bytes) => {
    expect(parseByteSize(value)).toBe(bytes);
  });

  it.each([0, -1, 1.5, '0', '1.5Mi', 'lots', '6 Tb', '', null, true, Number.MAX_VALUE, '99999999999999999999Gi'])('refuses %j', (value) => {
    expect(parseByteSize(value)).toBeUndefined();
  });
});

describe('suggest', () => {
  it('names the closest known name within 3 edits, or nothing', () => {
    expect(suggest('dedupWindo', ['url', 'dedupWindow', 'retention'])).toBe(' (did you mean "dedupWindow"?)');
    expect(suggest('completely-else', ['url', 'dedupWindow'])).toBe('');
  });
});

describe('atomic writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-atomic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['sync', (f: string, d: string, m: number) => Promise.resolve(writeFileAtomic(f, d, m))],
    ['async', writeFileAtomicAsync],
  ])('%s: replaces the file with the exact mode and leaves no temporary file', async (_name, write) => {
    const file = join(dir, `secret-${_name}.key`);
    writeFileSync(file, 'old', { mode: 0o644 });
    await write(file, 'new', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces a symlink at the target instead of writing through it', async () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    const file = join(dir, 'link');
    symlinkSync(victim, file);
    await writeFileAtomicAsync(file, 'mine', 0o600);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
  });

  it('fails without leaving anything behind when the folder does not exist', async () => {
    expect(() => writeFileAtomic(join(dir, 'missing', 'f'), 'x', 0o600)).toThrow(/ENOENT/);
    await expect(writeFileAtomicAsync(join(dir, 'missing', 'f'), 'x', 0o600)).rejects.toThrow(/ENOENT/);
  });
});

describe('nestsDeeperThan (core/json-depth.ts)', () => {
  const b = (s: string) => Buffer.from(s);
  it('counts objects and arrays inside one another, not brackets in strings or escaped quotes', () => {
    expect(nestsDeeperThan(b('[[[]]]'), 3)).toBe(false);
    expect(nestsDeeperThan(b('[[[[]]]]'), 3)).toBe(true);
    expect(nestsDeeperThan(b('{"a":{"b":[1,{"c":2}]}}'), 3)).toBe(true);
    expect(nestsDeeperThan(b('{"a":{"b":[1,{"c":2}]}}'), 4)).toBe(false);
    expect(nestsDeeperThan(b(JSON.stringify({ s: '[[[[[[{{{{' })), 2)).toBe(false);
    expect(nestsDeeperThan(b(JSON.stringify({ s: 'a\\"[[[[', t: '\\\\' })), 2)).toBe(false);
    expect(nestsDeeperThan(b('[' + JSON.stringify('"') + ',[[[]]]]'), 3)).toBe(true);
    // Siblings do not add up: depth, not count.
    expect(nestsDeeperThan(b('[' + '[],'.repeat(10_000) + '[]]'), 2)).toBe(false);
    expect(nestsDeeperThan(b('['.repeat(MAX_JSON_DEPTH + 1)))).toBe(true);
    expect(nestsDeeperThan(b('['.repeat(MAX_JSON_DEPTH)))).toBe(false);
  });

  // The depth of a parsed value, as a reference: objects and arrays count one level each.
  const depthOf = (v: unknown): number =>
    v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depthOf)) : 0;

  it('agrees with the parsed depth at every bound, from the bytes alone or with the decoded text', () => {
    const values: unknown[] = [
      { a: [1, { b: [[], {}] }], s: '{{{[[[', u: 'ü€😀 "q" \\' },
      [[[[[[['x']]]]]]],
      { 'k[{': { 'v"{': ['[', ']', '{', '}', '\\"['] } },
      Array.from({ length: 50 }, (_, i) => (i % 2 ? [i, [i]] : { i, s: '['.repeat(i) })),
      { deep: JSON.parse('['.repeat(40) + ']'.repeat(40)), text: '{'.repeat(200) },
    ];
    for (const v of values) {
      const text = JSON.stringify(v, null, v === values[1] ? 2 : undefined);
      const bytes = Buffer.from(text);
      const depth = depthOf(v);
      for (let max = 0; max <= depth + 1; max++) {
        expect(nestsDeeperThan(bytes, max), `${text.slice(0, 40)} max ${max}`).toBe(depth > max);
        expect(nestsDeeperThan(bytes, max, text), `${text.slice(0, 40)} max ${max} (text)`).toBe(depth > max);
      }
    }
  });

  it('brackets in strings past the bound send it to the full walk, which still ignores them', () => {
    // 2,000 brackets in a string: more openings than the bound, yet only 2 levels deep.
    const text = JSON.stringify({ s: '['.repeat(1000) + '{'.repeat(1000), a: [] });
    expect(nestsDeeperThan(Buffer.from(text))).toBe(false);
    expect(nestsDeeperThan(Buffer.from(text), MAX_JSON_DEPTH, text)).toBe(false);
    const deep = '{"s":"' + '['.repeat(1000) + '","a":' + '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH) + '}';
    expect(nestsDeeperThan(Buffer.from(deep), MAX_JSON_DEPTH, deep)).toBe(true);
    // Exactly at the bound: as many openings as allowed levels, all nested.
    const edge = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(nestsDeeperThan(Buffer.from(edge), MAX_JSON_DEPTH, edge)).toBe(false);
    // A subarray of a larger buffer is read at its own offset.
    const big = Buffer.from('xxxx' + '[[[]]]' + 'yyyy');
    expect(nestsDeeperThan(big.subarray(4, 10), 2)).toBe(true);
    expect(nestsDeeperThan(new Uint8Array(big.buffer, big.byteOffset + 4, 6), 3)).toBe(false);
  });
});
