// Which requests /mutate patches: operations, subresources, exemptions, dry run.
import { describe, expect, it } from 'vitest';
import { computeMutation } from '../../../webhook/mutate.js';
import { KIND_NAMES, compiledWith, objectOf, requestFor } from './support.js';

const spec = () => ({ containers: [{ name: 'app', image: 'nginx' }] });
const compiled = compiledWith();

describe('operations', () => {
  it('patches a Pod on CREATE only: an UPDATE patch would be rejected (pod specs are immutable)', () => {
    const pod = objectOf('Pod', spec());
    expect(computeMutation(requestFor(pod), compiled).patch).not.toEqual([]);
    expect(computeMutation(requestFor(pod, { operation: 'UPDATE', oldObject: pod }), compiled).patch).toEqual([]);
  });

  it('patches a Job on CREATE only (its template is immutable)', () => {
    const job = objectOf('Job', spec());
    expect(computeMutation(requestFor(job), compiled).patch).not.toEqual([]);
    expect(computeMutation(requestFor(job, { operation: 'UPDATE', oldObject: job }), compiled).patch).toEqual([]);
  });

  it.each(KIND_NAMES.filter((k) => k !== 'Pod' && k !== 'Job'))('patches a %s template on UPDATE too', (kind) => {
    const object = objectOf(kind, spec());
    const result = computeMutation(requestFor(object, { operation: 'UPDATE', oldObject: object }), compiled);
    expect(result.applied).toEqual(['drop-all-capabilities', 'no-privilege-escalation', 'seccomp-runtime-default']);
  });

  it.each(['DELETE', 'CONNECT'] as const)('never patches on %s', (operation) => {
    expect(computeMutation(requestFor(objectOf('Deployment', spec()), { operation }), compiled).patch).toEqual([]);
  });

  it('never patches a status or other subresource write', () => {
    const d = objectOf('Deployment', spec());
    expect(computeMutation(requestFor(d, { operation: 'UPDATE', subResource: 'status' }), compiled).patch).toEqual([]);
    expect(computeMutation(requestFor(objectOf('Pod', spec()), { operation: 'CREATE', subResource: 'binding' }), compiled).patch).toEqual([]);
  });

  it('ignores kinds without a pod template, and a missing or null object', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
    expect(computeMutation(requestFor(cm), compiled).patch).toEqual([]);
    expect(computeMutation(requestFor(null), compiled).patch).toEqual([]);
    expect(computeMutation({ ...requestFor(null), object: undefined }, compiled).patch).toEqual([]);
  });

  it('takes the kind from the request when the object does not carry one', () => {
    const pod: Record<string, unknown> = { ...objectOf('Pod', spec()) };
    delete pod.kind;
    const request = { ...requestFor(objectOf('Pod', spec())), object: pod };
    expect(computeMutation(request, compiled).applied).toHaveLength(3);
  });

  it('gives a dry-run request the same patch', () => {
    const pod = objectOf('Pod', spec());
    expect(computeMutation(requestFor(pod, { dryRun: true }), compiled)).toEqual(computeMutation(requestFor(pod), compiled));
  });

  it('leaves an object being deleted alone (its update removes a finalizer)', () => {
    const d = objectOf('Deployment', spec()) as Record<string, Record<string, unknown>>;
    d.metadata!.deletionTimestamp = '2025-01-01T00:00:00Z';
    expect(computeMutation(requestFor(d, { operation: 'UPDATE' }), compiled).patch).toEqual([]);
  });

  it('leaves mirror pods alone (they only reflect a static pod the kubelet runs as written)', () => {
    const pod = objectOf('Pod', spec()) as Record<string, Record<string, unknown>>;
    pod.metadata!.annotations = { 'kubernetes.io/config.mirror': 'abc' };
    expect(computeMutation(requestFor(pod), compiled).patch).toEqual([]);
  });

  it('does not create a missing pod spec (nothing to harden)', () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1 } };
    expect(computeMutation(requestFor(d), compiled).patch).toEqual([]);
    expect(computeMutation(requestFor({ apiVersion: 'v1', kind: 'Pod', spec: null }), compiled).patch).toEqual([]);
  });

  it('patches nothing when no mutation is configured', () => {
    expect(computeMutation(requestFor(objectOf('Pod', spec())), compiledWith({ mutations: [] })).patch).toEqual([]);
  });
});

describe('exemptions', () => {
  const exempt = (e: Partial<{ namespaces: string[]; usernames: string[]; groups: string[]; images: string[] }>) =>
    compiledWith({ exemptions: { namespaces: [], usernames: [], groups: [], images: [], ...e } });

  it('leaves requests in an exempt namespace alone (namespace from the request or the object)', () => {
    const c = exempt({ namespaces: ['team-a'] });
    expect(computeMutation(requestFor(objectOf('Pod', spec())), c).patch).toEqual([]);
    expect(computeMutation(requestFor(objectOf('Pod', spec()), { namespace: undefined }), c).patch).toEqual([]);
  });

  it('leaves requests by an exempt user or group alone', () => {
    expect(computeMutation(requestFor(objectOf('Pod', spec())), exempt({ usernames: ['alice'] })).patch).toEqual([]);
    expect(computeMutation(requestFor(objectOf('Pod', spec())), exempt({ groups: ['system:authenticated'] })).patch).toEqual([]);
    expect(computeMutation(requestFor(objectOf('Pod', spec())), exempt({ usernames: ['bob'] })).patch).not.toEqual([]);
  });

  it('leaves a container with an exempt image alone, and the pod-level fields of its pod', () => {
    const podSpec = {
      containers: [
        { name: 'app', image: 'nginx' },
        { name: 'proxy', image: 'registry.k8s.io/proxy:1' },
      ],
    };
    const result = computeMutation(requestFor(objectOf('Pod', podSpec)), exempt({ images: ['registry.k8s.io/*'] }));
    expect(result.patch).toEqual([
      { op: 'add', path: '/spec/containers/0/securityContext', value: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
      { op: 'add', path: '/metadata/annotations', value: { 'bulwark.io/mutated': 'drop-all-capabilities,no-privilege-escalation' } },
    ]);
  });
});

describe('malformed requests', () => {
  it('survives a userInfo without groups or with junk in it', () => {
    const pod = objectOf('Pod', spec());
    const c = compiledWith({ exemptions: { namespaces: [], usernames: [], groups: ['ops'], images: [] } });
    expect(computeMutation(requestFor(pod, { userInfo: { username: 'alice' } }), c).applied).toHaveLength(3);
    expect(computeMutation(requestFor(pod, { userInfo: { groups: 5 } as never }), c).applied).toHaveLength(3);
    expect(computeMutation(requestFor(pod, { userInfo: undefined as never }), c).applied).toHaveLength(3);
  });
});
