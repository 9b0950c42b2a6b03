// Admission side of bulwark-tampering (a namespace relabelled to a weaker bulwark.io/mode or out of
// the webhook) and the control plane's own RBAC reconciliation, which enforce mode must never block.
import { describe, expect, it } from 'vitest';
import type { K8sObject } from '../../policies/types.js';
import type { AdmissionRequest } from '../../webhook/admission.js';
import { decide } from '../../webhook/decide.js';
import { decisionAlert } from '../../webhook/decision-alert.js';
import { compiledWith, review } from './support.js';
import { defaultConfig } from '../../config/load.js';

const ns = (labels: Record<string, string> = {}, name = 'prod'): K8sObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});
const relabel = (from: Record<string, string>, to: Record<string, string>, overrides: Partial<AdmissionRequest> = {}) =>
  review(ns(to), { operation: 'UPDATE', oldObject: ns(from), name: 'prod', ...overrides }).request;
const user = (username: string, groups: string[] = ['system:authenticated']) => ({ userInfo: { username, groups } });

describe('bulwark-tampering at admission: namespace relabels', () => {
  it.each([
    ['enforce → audit', { 'bulwark.io/mode': 'enforce' }, { 'bulwark.io/mode': 'audit' }, 'sets bulwark.io/mode=audit, weaker than enforce'],
    ['enforce → warn', { 'bulwark.io/mode': 'enforce' }, { 'bulwark.io/mode': 'warn' }, 'sets bulwark.io/mode=warn, weaker than enforce'],
    ['unlabelled (default enforce) → audit', {}, { 'bulwark.io/mode': 'audit' }, 'sets bulwark.io/mode=audit, weaker than enforce'],
    [
      'opting out of the webhook',
      {},
      { 'bulwark.io/webhook': 'ignore' },
      "sets bulwark.io/webhook=ignore, which takes the namespace out of Bulwark's webhooks",
    ],
  ])('denies %s by a user not in modeAdmins (enforce)', (_name, from, to, words) => {
    const compiled = compiledWith();
    const request = relabel(from, to);
    const d = decide({ request, compiled });
    expect(d.outcome).toBe('denied');
    expect(d.response?.status?.message).toBe(
      `[bulwark-tampering] namespace "prod" update by "alice" ${words}; only tampering.modeAdmins may weaken Bulwark for a namespace`,
    );
    const alert = decisionAlert(d, request, compiled, 'prod', new Date(0));
    expect(alert).toMatchObject({ type: 'bulwark-tampering', severity: 'high', title: 'Bulwark itself weakened or changed', source: 'admission' });
    expect(alert.tactics).toContain('Defense Evasion');
    expect(alert.remediation).toContain('modeAdmins');
  });

  it('a namespace created already weakened is denied too', () => {
    const d = decide({ request: review(ns({ 'bulwark.io/mode': 'audit' })).request, compiled: compiledWith() });
    expect(d.outcome).toBe('denied');
    expect(d.response?.status?.message).toContain('namespace "prod" create by "alice" sets bulwark.io/mode=audit, weaker than enforce (the default)');
  });

  it.each([
    ['audit → enforce (stronger)', { 'bulwark.io/mode': 'audit' }, { 'bulwark.io/mode': 'enforce' }, {}],
    ['another label changes', { 'bulwark.io/mode': 'audit' }, { 'bulwark.io/mode': 'audit', team: 'a' }, {}],
    ['a mode admin (group system:masters, the default)', {}, { 'bulwark.io/mode': 'audit' }, user('root', ['system:masters', 'system:authenticated'])],
    ['an invalid mode value (read as the default)', {}, { 'bulwark.io/mode': 'off' }, {}],
    ['the ignore label already set', { 'bulwark.io/webhook': 'ignore' }, { 'bulwark.io/webhook': 'ignore', x: 'y' }, {}],
  ])('allows %s', (_name, from, to, overrides) => {
    expect(decide({ request: relabel(from, to, overrides as Partial<AdmissionRequest>), compiled: compiledWith() }).outcome).not.toBe('denied');
    expect(decide({ request: relabel(from, to, overrides as Partial<AdmissionRequest>), compiled: compiledWith() }).findings).toEqual([]);
  });

  it('modeAdmins users (globs) from config; the action follows actions.bulwark-tampering and defaultAction', () => {
    const base = defaultConfig();
    const admins = compiledWith({ tampering: { ...base.tampering, modeAdmins: { users: ['platform-*'], groups: [] } } });
    expect(decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }, user('platform-bot')), compiled: admins }).findings).toEqual([]);
    expect(decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }, user('root', ['system:masters'])), compiled: admins }).outcome).toBe('denied');
    const warned = decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }), compiled: compiledWith({ defaultAction: 'warn' }) });
    expect(warned.outcome).toBe('warned');
    // With defaultAction warn, relabelling enforce → warn weakens nothing relative to... the label it had.
    expect(
      decide({ request: relabel({ 'bulwark.io/mode': 'enforce' }, { 'bulwark.io/mode': 'warn' }), compiled: compiledWith({ defaultAction: 'warn' }) }).outcome,
    ).toBe('warned');
    expect(
      decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }), compiled: compiledWith({ actions: { 'bulwark-tampering': 'audit' } as never }) }).outcome,
    ).toBe('audited');
    expect(
      decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }), compiled: compiledWith({ actions: { 'bulwark-tampering': 'off' } as never }) }).outcome,
    ).not.toBe('denied');
  });

  it('the /validate/audit route (routeMode) only audits; the namespace’s own new label never decides', () => {
    expect(decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }), compiled: compiledWith(), routeMode: 'audit' }).outcome).toBe('audited');
  });

  it('status and finalize subresources, DELETE and dry runs are not relabels to judge (dry run: answered, no alert)', () => {
    expect(decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }, { subResource: 'status' }), compiled: compiledWith() }).findings).toEqual([]);
    expect(decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }, { operation: 'DELETE' }), compiled: compiledWith() }).findings).toEqual([]);
  });

  it('exemptions in config apply to the requesting user as elsewhere', () => {
    const compiled = compiledWith({ exemptions: { namespaces: [], usernames: ['alice'], groups: [], images: [] } });
    expect(decide({ request: relabel({}, { 'bulwark.io/mode': 'audit' }), compiled }).outcome).toBe('exempt');
  });
});

describe('admission exempts the control plane’s own RBAC reconciliation', () => {
  const admin = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'admin', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] },
    rules: [
      { apiGroups: [''], resources: ['pods/exec', 'pods/attach'], verbs: ['create', 'get'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['*'] },
    ],
  } as K8sObject;
  const clusterAdmin = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'cluster-admin', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules: [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ],
  } as K8sObject;

  it('the clusterrole-aggregation-controller updating admin is exempt in enforce mode', () => {
    const request = review(admin, {
      operation: 'UPDATE',
      oldObject: { ...admin, rules: [] },
      name: 'admin',
      ...user('system:serviceaccount:kube-system:clusterrole-aggregation-controller', [
        'system:serviceaccounts',
        'system:serviceaccounts:kube-system',
        'system:authenticated',
      ]),
    }).request;
    const d = decide({ request, compiled: compiledWith() });
    expect(d.outcome).toBe('exempt');
    expect(d.reason).toMatch(/clusterrole-aggregation-controller/);
  });

  it('system:apiserver reconciling bootstrap RBAC (kubernetes.io/bootstrapping=rbac-defaults) is exempt', () => {
    const d = decide({
      request: review(clusterAdmin, { name: 'cluster-admin', ...user('system:apiserver', ['system:masters', 'system:authenticated']) }).request,
      compiled: compiledWith(),
    });
    expect(d.outcome).toBe('exempt');
  });

  it.each([
    ['a person updating admin', review(admin, { operation: 'UPDATE', oldObject: { ...admin, rules: [] }, name: 'admin' }).request],
    [
      'the aggregation controller writing a role without an aggregationRule',
      review(
        { ...admin, aggregationRule: undefined },
        { operation: 'UPDATE', oldObject: { ...admin, rules: [] }, ...user('system:serviceaccount:kube-system:clusterrole-aggregation-controller') },
      ).request,
    ],
    [
      'system:apiserver writing a role that is not bootstrap RBAC',
      review({ ...clusterAdmin, metadata: { name: 'backdoor' } }, user('system:apiserver', ['system:masters'])).request,
    ],
    [
      'the aggregation controller writing a Role (namespaced)',
      review(
        { ...admin, kind: 'Role', metadata: { name: 'r', namespace: 'prod' } },
        {
          operation: 'UPDATE',
          oldObject: { ...admin, kind: 'Role', rules: [] },
          ...user('system:serviceaccount:kube-system:clusterrole-aggregation-controller'),
        },
      ).request,
    ],
  ])('still checks %s', (_name, request) => {
    expect(decide({ request, compiled: compiledWith() }).outcome).toBe('denied');
  });
});

describe('POST /validate over HTTPS: a namespace relabel that weakens Bulwark (bulwark-tampering)', async () => {
  const { afterAll, beforeAll } = await import('vitest');
  const { client, startTestServer, waitFor } = await import('./support.js');
  let ts: Awaited<ReturnType<typeof startTestServer>>;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    ts = await startTestServer();
    c = client(ts);
  });
  afterAll(() => ts.close());

  it('denies it with a [bulwark-tampering] line, echoes uid and records one high alert; a mode admin passes', async () => {
    const doc = review(ns({ 'bulwark.io/webhook': 'ignore' }), { operation: 'UPDATE', oldObject: ns({}), name: 'prod' });
    const res = await c.review(doc);
    expect(res.uid).toBe(doc.request.uid);
    expect(res.allowed).toBe(false);
    expect(res.status?.message).toMatch(/^\[bulwark-tampering\] namespace "prod" update by "alice" sets bulwark\.io\/webhook=ignore/);
    await waitFor(() => ts.sink.alerts.length === 1, 2000, 'the alert');
    expect(ts.sink.alerts[0]).toMatchObject({
      type: 'bulwark-tampering',
      severity: 'high',
      source: 'admission',
      resource: { kind: 'Namespace', name: 'prod' },
    });
    const admin = review(ns({ 'bulwark.io/webhook': 'ignore' }), { operation: 'UPDATE', oldObject: ns({}), name: 'prod', ...user('root', ['system:masters']) });
    expect(await c.review(admin)).toEqual({ uid: admin.request.uid, allowed: true });
  });
});
