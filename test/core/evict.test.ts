import { describe, expect, it } from 'vitest';
import { evictionBatch, oldestKeys } from '../../core/evict.js';

describe('evictionBatch', () => {
  it('is 1/64 of the bound, at least one', () => {
    expect([0, 1, 63, 64, 128, 5000, 100_000].map(evictionBatch)).toEqual([1, 1, 1, 1, 2, 78, 1562]);
  });
});

describe('oldestKeys', () => {
  it('lists the oldest keys in insertion order, a deleted and re-set key counting as new, without changing the map', () => {
    const m = new Map<string, number>();
    for (let i = 0; i < 10; i++) m.set(`k${i}`, i);
    m.delete('k1');
    m.set('k0', 100); // an update keeps its place
    m.delete('k2');
    m.set('k2', 2); // deleted then set again: now the newest
    expect(oldestKeys(m, 3)).toEqual(['k0', 'k3', 'k4']);
    expect(oldestKeys(m, 100)).toEqual(['k0', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k2']);
    expect(oldestKeys(m, 0)).toEqual([]);
    expect(m.size).toBe(9);
  });
});
