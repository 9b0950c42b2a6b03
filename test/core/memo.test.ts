// boundedMemo: answers as the function does, remembers at most maxEntries keys of at most maxKeyLength.
// stringMemo: the same answers from a direct-mapped table confirmed by comparing the strings.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { boundedMemo, ownCopy, slotOf, stringMemo } from '../../core/memo.js';

describe('boundedMemo', () => {
  it('computes a short key once, a long key every time, and forgets everything when full', () => {
    const calls: string[] = [];
    const memo = boundedMemo(
      (k: string) => {
        calls.push(k);
        return k.length;
      },
      3,
      10,
    );
    expect([memo('a'), memo('a'), memo('bb')]).toEqual([1, 1, 2]);
    expect(calls).toEqual(['a', 'bb']);
    const long = 'x'.repeat(11);
    expect([memo(long), memo(long)]).toEqual([11, 11]);
    expect(calls.filter((c) => c === long)).toHaveLength(2);
    memo('ccc'); // third entry
    memo('dddd'); // full: forgets all, then keeps this one
    memo('a');
    expect(calls.filter((c) => c === 'a')).toHaveLength(2);
  });
});

describe('stringMemo', () => {
  it('answers as the function does for fresh copies of many strings, colliding slots included', () => {
    const calls = new Map<string, number>();
    const compute = (k: string) => {
      calls.set(k, (calls.get(k) ?? 0) + 1);
      return `${k.length}:${k.toUpperCase()}`;
    };
    const memo = stringMemo(compute, 4); // 4 slots for 50 keys: most lookups collide
    const keys = Array.from({ length: 50 }, (_, i) => `kube-controller-manager/v1.30.${i} (linux/amd64)`);
    for (let round = 0; round < 3; round++) {
      for (const k of keys) expect(memo(JSON.parse(JSON.stringify(k)) as string)).toBe(compute(k));
    }
    expect(memo('')).toBe('0:');
  });

  it('computes a repeated key once while it holds its slot, a long key every time', () => {
    let n = 0;
    const memo = stringMemo(
      (k: string) => {
        n++;
        return k.length;
      },
      256,
      10,
    );
    const ua = 'kubectl/v1';
    for (let i = 0; i < 5; i++) memo(ua.slice(0, 5) + ua.slice(5)); // a new string object each time
    expect(n).toBe(1);
    const long = 'x'.repeat(11);
    memo(long);
    memo(long);
    expect(n).toBe(3);
  });

  it('refuses a table size that is not a power of two', () => {
    expect(() => stringMemo(() => 1, 100)).toThrow(/power of two/);
  });
});

describe.each([
  ['boundedMemo', boundedMemo],
  ['stringMemo', stringMemo],
])('%s', (_name, make) => {
  it('remembers an undefined answer too', () => {
    let n = 0;
    const memo = make(() => {
      n++;
      return undefined;
    });
    memo('k');
    memo('k');
    expect(n).toBe(1);
  });
});

describe('slotOf', () => {
  it('keeps apart names that differ in one character, and user agents that differ early or late', () => {
    const spread = (keys: string[], slots: number) => new Set(keys.map((k) => slotOf(k) & (slots - 1))).size;
    const devs = Array.from({ length: 10 }, (_, i) => `dev${i}@example.com`);
    const accounts = Array.from({ length: 10 }, (_, i) => `system:serviceaccount:app-${i}:web`);
    const nodes = Array.from({ length: 10 }, (_, i) => `system:node:worker-${i}`);
    // In 1,024 slots, ten keys nearly always fall in ten slots; a hash blind to the digit puts them in one.
    for (const keys of [devs, accounts, nodes]) expect(spread(keys, 1024)).toBeGreaterThanOrEqual(9);
    const uas = ['kubectl/v1.30.2 (linux/amd64) kubernetes/3968350', 'kubelet/v1.30.2 (linux/amd64) kubernetes/3968350'];
    expect(slotOf(uas[0]!) & 255).not.toBe(slotOf(uas[1]!) & 255);
    const controllers = ['leader-election', 'shared-informers'].map((c) => `kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/${c}`);
    expect(slotOf(controllers[0]!)).not.toBe(slotOf(controllers[1]!));
  });
});

describe('ownCopy (memo keys)', () => {
  // V8 keeps a string alive while a substring of it lives: measured with a forced collection.
  const gc = (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();
  const heapAfterKeeping = (keep: (key: string) => void): number => {
    const re = /"userAgent":"([^"]*)"/;
    for (let i = 0; i < 64; i++) {
      const line = `{"userAgent":"agent-${i}/1.0 (linux/amd64) kubernetes/${'0'.repeat(20)}","requestObject":"${'x'.repeat(1 << 20)}"}`;
      keep(re.exec(line)![1]!);
    }
    gc();
    return process.memoryUsage().heapUsed;
  };

  it('is equal to the string and does not keep the string it was cut from', () => {
    const line = `prefix ${'y'.repeat(100)} suffix`;
    expect(ownCopy(line.slice(7, 107))).toBe('y'.repeat(100));
    expect(ownCopy('')).toBe('');
    const before = heapAfterKeeping(() => undefined);
    const kept: string[] = [];
    const copied = heapAfterKeeping((k) => kept.push(ownCopy(k)));
    expect(kept).toHaveLength(64);
    // 64 lines of 1 MiB each: the copies keep none of them.
    expect(copied - before).toBeLessThan(8 * 1048576);
  });

  it.each([
    ['stringMemo', () => stringMemo((ua: string) => ua.length, 256)],
    ['boundedMemo', () => boundedMemo((ua: string) => ua.length)],
  ])('%s keeps a copy of its keys, not the audit lines they were cut from', (_name, make) => {
    const memo = make();
    const before = heapAfterKeeping(() => undefined);
    const after = heapAfterKeeping((k) => memo(k));
    expect(after - before).toBeLessThan(8 * 1048576);
  });
});
