// The patch builder: minimal, merged, never overriding, and escaped.
import { describe, expect, it } from 'vitest';
import { PatchBuilder, toPointer } from '../../../webhook/mutations/patch.js';
import { applyPatch } from './support.js';

describe('PatchBuilder', () => {
  it('adds the outermost missing object once, merging fills beneath it', () => {
    const doc = { spec: { containers: [{ name: 'a' }] } };
    const b = new PatchBuilder(doc);
    expect(b.fill(['spec', 'containers', 0, 'securityContext', 'allowPrivilegeEscalation'], false)).toBe(true);
    expect(b.fill(['spec', 'containers', 0, 'securityContext', 'capabilities', 'drop'], ['ALL'])).toBe(true);
    expect(b.fill(['spec', 'containers', 0, 'securityContext', 'capabilities', 'add'], ['X'])).toBe(true);
    expect(b.operations()).toEqual([
      { op: 'add', path: '/spec/containers/0/securityContext', value: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['X'] } } },
    ]);
    expect(applyPatch(doc, b.operations())).toEqual({
      spec: { containers: [{ name: 'a', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['X'] } } }] },
    });
  });

  it('never fills a member that is set, whatever its value', () => {
    const doc = { a: { b: false, c: 0, d: '', e: [], f: {} } };
    const b = new PatchBuilder(doc);
    for (const key of ['b', 'c', 'd', 'e', 'f']) expect(b.fill(['a', key], 'x')).toBe(false);
    expect(b.operations()).toEqual([]);
  });

  it('replaces null (unset) members, and gives up under scalars and lists', () => {
    const doc = { a: null, s: 'str', l: [1] };
    const b = new PatchBuilder(doc);
    expect(b.fill(['a', 'x'], 1)).toBe(true);
    expect(b.fill(['s', 'x'], 1)).toBe(false);
    expect(b.fill(['l', 'x'], 1)).toBe(false);
    expect(b.fill(['l', 5, 'x'], 1)).toBe(false);
    expect(applyPatch(doc, b.operations())).toEqual({ a: { x: 1 }, s: 'str', l: [1] });
  });

  it('does not read inherited properties as set', () => {
    const b = new PatchBuilder({ spec: {} });
    expect(b.fill(['spec', 'constructor'], 1)).toBe(true);
    expect(b.fill(['spec', 'toString', 'x'], 1)).toBe(true);
  });

  it('put overwrites only a differing value', () => {
    const doc = { m: { 'a/b': 'old' } };
    const b = new PatchBuilder(doc);
    expect(b.put(['m', 'a/b'], 'old')).toBe(false);
    expect(b.put(['m', 'a/b'], 'new')).toBe(true);
    expect(b.operations()).toEqual([{ op: 'add', path: '/m/a~1b', value: 'new' }]);
  });

  it('hands out copies, so that patched documents never share values', () => {
    const value = { drop: ['ALL'] };
    const b = new PatchBuilder({ a: {}, b: {} });
    b.fill(['a', 'c'], value);
    b.fill(['b', 'c'], value);
    const [x, y] = b.operations();
    expect(x!.value).not.toBe(y!.value);
    expect(x!.value).not.toBe(value);
  });
});

describe('toPointer', () => {
  it('escapes ~ before / (RFC 6901)', () => {
    expect(toPointer(['metadata', 'annotations', 'bulwark.io/mutated'])).toBe('/metadata/annotations/bulwark.io~1mutated');
    expect(toPointer(['a~/b', 0])).toBe('/a~0~1b/0');
    expect(toPointer(['~1'])).toBe('/~01');
  });
});
