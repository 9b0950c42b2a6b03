// boundedMemo: answers as the function does, remembers at most maxEntries keys of at most maxKeyLength.
import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../../core/memo.js';

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

  it('remembers an undefined answer too', () => {
    let n = 0;
    const memo = boundedMemo(() => {
      n++;
      return undefined;
    });
    memo('k');
    memo('k');
    expect(n).toBe(1);
  });
});
