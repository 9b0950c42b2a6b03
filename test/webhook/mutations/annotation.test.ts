// The bulwark.io/mutated annotation: created when absent, merged when present, escaped right.
import { describe, expect, it } from 'vitest';
import type { K8sObject } from '../../../policies/types.js';
import { MUTATED_ANNOTATION, computeMutation, mergeMutatedIds } from '../../../webhook/mutate.js';
import { applyPatch, compiledWith, requestFor } from './support.js';

const compiled = compiledWith({ mutations: ['no-privilege-escalation'] });
const spec = { containers: [{ name: 'app', image: 'nginx' }] };
const containerOp = { op: 'add', path: '/spec/containers/0/securityContext', value: { allowPrivilegeEscalation: false } };

function pod(metadata?: unknown): K8sObject {
  const obj: Record<string, unknown> = { apiVersion: 'v1', kind: 'Pod', spec };
  if (metadata !== undefined) obj.metadata = metadata;
  return obj as K8sObject;
}

describe('the bulwark.io/mutated annotation', () => {
  it.each([
    ['metadata is absent', undefined, { op: 'add', path: '/metadata', value: { annotations: { [MUTATED_ANNOTATION]: 'no-privilege-escalation' } } }],
    ['metadata is null', null, { op: 'add', path: '/metadata', value: { annotations: { [MUTATED_ANNOTATION]: 'no-privilege-escalation' } } }],
    ['annotations are absent', { name: 'p' }, { op: 'add', path: '/metadata/annotations', value: { [MUTATED_ANNOTATION]: 'no-privilege-escalation' } }],
    [
      'annotations are null',
      { name: 'p', annotations: null },
      { op: 'add', path: '/metadata/annotations', value: { [MUTATED_ANNOTATION]: 'no-privilege-escalation' } },
    ],
    [
      'other annotations exist',
      { annotations: { 'a/b~c': 'x' } },
      { op: 'add', path: '/metadata/annotations/bulwark.io~1mutated', value: 'no-privilege-escalation' },
    ],
    [
      'the annotation is null',
      { annotations: { [MUTATED_ANNOTATION]: null } },
      { op: 'add', path: '/metadata/annotations/bulwark.io~1mutated', value: 'no-privilege-escalation' },
    ],
    [
      'the annotation lists other IDs (merged, sorted)',
      { annotations: { [MUTATED_ANNOTATION]: 'seccomp-runtime-default, drop-all-capabilities' } },
      { op: 'add', path: '/metadata/annotations/bulwark.io~1mutated', value: 'drop-all-capabilities,no-privilege-escalation,seccomp-runtime-default' },
    ],
  ])('when %s', (_, metadata, annotationOp) => {
    const object = pod(metadata);
    const result = computeMutation(requestFor(object), compiled);
    expect(result.patch).toEqual([containerOp, annotationOp]);
    const patched = applyPatch<Record<string, Record<string, Record<string, unknown>>>>(object, result.patch);
    const expected = annotationOp.path === '/metadata/annotations/bulwark.io~1mutated' ? annotationOp.value : 'no-privilege-escalation';
    expect(patched.metadata!.annotations![MUTATED_ANNOTATION]).toBe(expected);
    if (metadata && typeof metadata === 'object' && 'annotations' in metadata && metadata.annotations) {
      for (const [k, v] of Object.entries(metadata.annotations as Record<string, unknown>)) {
        if (k !== MUTATED_ANNOTATION) expect(patched.metadata!.annotations![k]).toBe(v);
      }
    }
  });

  it('writes nothing when the annotation already lists every applied ID', () => {
    const object = pod({ annotations: { [MUTATED_ANNOTATION]: 'no-privilege-escalation' } });
    expect(computeMutation(requestFor(object), compiled).patch).toEqual([containerOp]);
  });

  it('is absent when nothing was applied', () => {
    const object = pod({ name: 'p' });
    const patched = applyPatch(object, computeMutation(requestFor(object), compiled).patch);
    expect(computeMutation(requestFor(patched), compiled)).toEqual({ patch: [], applied: [] });
  });

  it("goes on the workload's own metadata, not on its pod template", () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', annotations: { keep: 'me' } },
      spec: { template: { metadata: { labels: { app: 'd' } }, spec } },
    };
    const result = computeMutation(requestFor(deployment), compiled);
    expect(result.patch).toEqual([
      { op: 'add', path: '/spec/template/spec/containers/0/securityContext', value: { allowPrivilegeEscalation: false } },
      { op: 'add', path: '/metadata/annotations/bulwark.io~1mutated', value: 'no-privilege-escalation' },
    ]);
  });

  it('leaves objects with malformed metadata or annotations alone (the API server rejects them)', () => {
    expect(computeMutation(requestFor(pod('x')), compiled).patch).toEqual([]);
    expect(computeMutation(requestFor(pod({ annotations: ['a'] })), compiled).patch).toEqual([]);
  });
});

describe('mergeMutatedIds', () => {
  it.each([
    [undefined, ['b', 'a'], 'a,b'],
    ['c,a', ['b'], 'a,b,c'],
    [' a , ,b ', ['a'], 'a,b'],
    [42, ['a'], 'a'],
  ])('%j + %j → %s', (existing, applied, expected) => {
    expect(mergeMutatedIds(existing, applied)).toBe(expected);
  });
});
