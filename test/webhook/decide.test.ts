// The pure parts of the decision: line limits, significance of updates, action precedence.
import { describe, expect, it } from 'vitest';
import { toSubject } from '../../policies/subject.js';
import type { Finding, PodSubject } from '../../policies/types.js';
import { decide } from '../../webhook/decide.js';
import { decisionAlert } from '../../webhook/decision-alert.js';
import { MAX_FINDINGS_PER_CHECK } from '../../policies/evaluate.js';
import { clip, limitLines, WARNING_LIMITS } from '../../webhook/clip.js';
import { admissionTarget, isSignificantPodUpdate, jsonEqual } from '../../webhook/target.js';
import { staticNamespaceModes, detectCluster } from '../../webhook/namespaces.js';
import { isJsonContentType } from '../../webhook/body.js';
import { parseByteSize } from '../../core/size.js';
import { compiledWith, privilegedSpec, review, withPodSpec } from './support.js';

const pod = (spec: Record<string, unknown>, annotations?: Record<string, string>) =>
  toSubject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...(annotations ? { annotations } : {}) }, spec }) as PodSubject;

describe('isSignificantPodUpdate (as PSA)', () => {
  const base = { containers: [{ name: 'a', image: 'x:1' }], initContainers: [{ name: 'i', image: 'y:1' }] };
  it.each([
    ['nothing checked changed', pod({ ...base, activeDeadlineSeconds: 5 }), false],
    ['a label or annotation changed', pod(base, { note: 'hi' }), false],
    ['a container image changed', pod({ ...base, containers: [{ name: 'a', image: 'x:2' }] }), true],
    ['an init container image changed', pod({ ...base, initContainers: [{ name: 'i', image: 'y:2' }] }), true],
    ['a container was added', pod({ ...base, containers: [...base.containers, { name: 'b', image: 'z' }] }), true],
    ['an init container was removed', pod({ ...base, initContainers: [] }), true],
    ['an ephemeral container was added', pod({ ...base, ephemeralContainers: [{ name: 'd', image: 'busybox' }] }), true],
    ['the seccomp pod annotation changed', pod(base, { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' }), true],
    ['a container seccomp annotation changed', pod(base, { 'container.seccomp.security.alpha.kubernetes.io/a': 'unconfined' }), true],
  ])('%s → %s', (_what, next, expected) => {
    expect(isSignificantPodUpdate(next, pod(base))).toBe(expected);
  });

  it('an existing ephemeral container: significant only when its image changes', () => {
    const withDebug = (image: string) => pod({ ...base, ephemeralContainers: [{ name: 'd', image }] });
    expect(isSignificantPodUpdate(withDebug('busybox'), withDebug('busybox'))).toBe(false);
    expect(isSignificantPodUpdate(withDebug('busybox:2'), withDebug('busybox'))).toBe(true);
  });
});

describe('admissionTarget', () => {
  it.each([
    ['DELETE', { operation: 'DELETE' }, /DELETE is not checked/],
    ['CONNECT', { operation: 'CONNECT' }, /CONNECT is not checked/],
    ['the status subresource', { operation: 'UPDATE', subResource: 'status' }, /subresource "status"/],
    ['no object', { object: null }, /no object/],
  ])('skips %s', (_what, overrides, reason) => {
    const t = admissionTarget(review(withPodSpec('Pod', privilegedSpec()), overrides as never).request);
    expect(t.evaluate).toBe(false);
    expect(!t.evaluate && t.reason).toMatch(reason);
  });

  it('reads the kind from the request when the object has none', () => {
    const obj = withPodSpec('Deployment', privilegedSpec());
    delete obj.kind;
    const doc = review(obj, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
    const t = admissionTarget(doc.request);
    expect(t.evaluate && t.subject.type).toBe('pod');
  });
});

describe('decide: action precedence', () => {
  const doc = () => review(withPodSpec('Pod', privilegedSpec()));
  it('defaultAction < per-policy action < namespace label < route', () => {
    const compiled = compiledWith({ defaultAction: 'audit', actions: { 'privileged-container': 'warn' } });
    expect(decide({ request: doc().request, compiled }).outcome).toBe('warned');
    const modes = staticNamespaceModes({ 'team-a': 'enforce' });
    expect(decide({ request: doc().request, compiled, namespaceModes: modes }).outcome).toBe('denied');
    expect(decide({ request: doc().request, compiled, namespaceModes: modes, routeMode: 'audit' }).outcome).toBe('audited');
    expect(decide({ request: doc().request, compiled, namespaceModes: modes, serverNamespace: 'team-a' }).outcome).toBe('audited');
  });
});

describe('decide: findings per check are capped, the rest counted', () => {
  it('a pod of 400 privileged containers keeps MAX_FINDINGS_PER_CHECK findings per policy and counts the rest in the message and the alert', () => {
    const containers = Array.from({ length: 400 }, (_, i) => ({ name: `c${i}`, image: 'nginx', securityContext: { privileged: true } }));
    const compiled = compiledWith();
    const { request } = review(withPodSpec('Pod', { containers }));
    const d = decide({ request, compiled });
    expect(d.outcome).toBe('denied');
    const privileged = d.findings.filter((f) => f.policy === 'privileged-container');
    expect(privileged).toHaveLength(MAX_FINDINGS_PER_CHECK);
    expect(privileged[0]!.message).toMatch(/"c0"/); // the first ones, in order
    expect(d.omitted).toContainEqual({ policy: 'privileged-container', action: 'enforce', count: 400 - MAX_FINDINGS_PER_CHECK });
    const total = d.findings.length + d.omitted!.reduce((n, o) => n + o.count, 0);
    const lines = d.response!.status!.message!.split('\n');
    const more = Number(/^\[bulwark\] (\d+) more findings: .*privileged-container/.exec(lines.at(-1)!)![1]);
    expect(lines.length - 1 + more).toBe(total);
    const alert = decisionAlert(d, request, compiled, 'p', new Date(0));
    expect(alert.message).toContain(`(and ${total - 1} more)`);
    expect(alert.evidence.omittedFindings).toMatchObject({ 'privileged-container': 400 - MAX_FINDINGS_PER_CHECK });
    expect((alert.evidence.findings as unknown[]).length).toBe(d.findings.length);
  });

  it('audit-only omitted findings are not counted in a denial; a short list with omitted findings still gets the summary', () => {
    const finding = (policy: string): Finding => ({ policy, severity: 'high', message: 'm', path: '' });
    expect(limitLines([finding('a')], WARNING_LIMITS, false, { count: 3, ids: ['a'] })).toEqual(['[a] m', '[bulwark] 3 more findings: a (see the alert)']);
    expect(limitLines([finding('a')], WARNING_LIMITS, false, { count: 0, ids: [] })).toEqual(['[a] m']);
    const containers = Array.from({ length: 60 }, (_, i) => ({ name: `c${i}`, image: 'nginx', securityContext: { privileged: true } }));
    const compiled = compiledWith({ actions: { 'privileged-container': 'audit' }, profiles: ['defender'] });
    const d = decide({ request: review(withPodSpec('Pod', { hostPID: true, containers })).request, compiled });
    expect(d.outcome).toBe('denied');
    expect(d.response!.status!.message).not.toMatch(/more findings/);
  });
});

describe('line limits', () => {
  const finding = (policy: string, message: string): Finding => ({ policy, severity: 'high', message, path: '' });

  it('clip keeps UTF-8 bytes under the limit and puts everything on one line', () => {
    const s = clip('é'.repeat(300) + '\nnext', 256);
    expect(Buffer.byteLength(s)).toBeLessThanOrEqual(256);
    expect(s.endsWith('…')).toBe(true);
    expect(clip('a\r\nb\tc', 256)).toBe('a b c');
  });

  it('short lists are returned whole, duplicates once', () => {
    expect(limitLines([finding('a', 'x'), finding('a', 'x'), finding('b', 'y')], WARNING_LIMITS)).toEqual(['[a] x', '[b] y']);
  });

  it('long lists end with a summary naming the remaining policies', () => {
    const many = Array.from({ length: 100 }, (_, i) => finding(`policy-${i % 7}`, `finding number ${i} `.padEnd(100, '.')));
    const lines = limitLines(many, WARNING_LIMITS);
    expect(lines.reduce((n, l) => n + Buffer.byteLength(l), 0)).toBeLessThanOrEqual(4096);
    const last = lines[lines.length - 1]!;
    expect(last).toMatch(/^\[bulwark\] \d+ more findings: policy-\d(, policy-\d)* \(see the alert\)$/);
    expect(Number(/(\d+) more/.exec(last)![1]) + lines.length - 1).toBe(100);
    expect(limitLines(many, WARNING_LIMITS, true).pop()).toMatch(/\(dry run: no alert recorded\)$/);
  });

  it('a summary with too many policy IDs is itself clipped', () => {
    const many = Array.from({ length: 400 }, (_, i) => finding(`some-rather-long-policy-identifier-${i}`, 'x'.repeat(200)));
    const last = limitLines(many, WARNING_LIMITS).pop()!;
    expect(Buffer.byteLength(last)).toBeLessThanOrEqual(256);
    expect(last).toMatch(/, …(\)| \(see the alert\))$/);
  });
});

describe('helpers', () => {
  it('jsonEqual ignores key order', () => {
    expect(jsonEqual({ a: [1, { b: 2, c: 3 }] }, { a: [1, { c: 3, b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: [1] }, { a: [1, 2] })).toBe(false);
    expect(jsonEqual({ a: undefined }, {})).toBe(false);
  });
  it('content types and sizes', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('Application/JSON')).toBe(true);
    expect(isJsonContentType('application/json-patch+json')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
    expect(parseByteSize('6Mi')).toBe(6 * 1024 * 1024);
    expect(parseByteSize('512KiB')).toBe(512 * 1024);
    expect(parseByteSize(1000)).toBe(1000);
    expect(parseByteSize('lots')).toBeUndefined();
  });
  it('detectCluster: --kubeconfig, then $KUBECONFIG, then in-cluster, else none', () => {
    expect(detectCluster('/k', {})).toEqual({ kind: 'kubeconfig', file: '/k' });
    expect(detectCluster(undefined, { KUBECONFIG: '/x' })).toEqual({ kind: 'env' });
    expect(detectCluster(undefined, {})).toBeUndefined();
  });
});
