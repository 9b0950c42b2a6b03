// bulwark-tampering on the audit side: a table of cases on events shaped like the API server's.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import { defaultConfig, type BulwarkConfig } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';

const ID = 'bulwark-tampering';
const forbidden = { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 } as AuditEvent['responseStatus'];
const sa = (ns: string, name: string) => ({
  username: `system:serviceaccount:${ns}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
});
const nsObj = (labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'prod', labels: { 'kubernetes.io/metadata.name': 'prod', ...labels } },
});
const nsRef = { resource: 'namespaces', name: 'prod', apiVersion: 'v1' };
const nsWrite = (verb: string, o: Record<string, unknown>) => ({
  level: 'RequestResponse',
  verb,
  requestURI: '/api/v1/namespaces/prod',
  objectRef: nsRef,
  ...o,
});
const obj = (resource: string, name: string, o: Record<string, unknown> = {}) => ({
  verb: 'patch',
  requestURI: `/api/v1/namespaces/bulwark-system/${resource}/${name}`,
  objectRef: { resource, namespace: 'bulwark-system', name, apiVersion: 'v1', ...(resource === 'deployments' ? { apiGroup: 'apps' } : {}) },
  ...o,
});
const whRef = (resource: string, name: string) => ({ resource, name, apiGroup: 'admissionregistration.k8s.io', apiVersion: 'v1' });

interface Case {
  name: string;
  event: Record<string, unknown>;
  fires: boolean;
  config?: Partial<BulwarkConfig>;
}

const cases: Case[] = [
  // Namespace relabels.
  {
    name: 'kubectl label (merge patch) to bulwark.io/mode=audit',
    event: nsWrite('patch', { requestObject: { metadata: { labels: { 'bulwark.io/mode': 'audit' } } }, responseObject: nsObj({ 'bulwark.io/mode': 'audit' }) }),
    fires: true,
  },
  {
    name: 'a JSON patch adding bulwark.io/webhook=ignore',
    event: nsWrite('patch', {
      requestObject: [{ op: 'add', path: '/metadata/labels/bulwark.io~1webhook', value: 'ignore' }],
      responseObject: nsObj({ 'bulwark.io/webhook': 'ignore' }),
    }),
    fires: true,
  },
  { name: 'an update to mode warn (default enforce)', event: nsWrite('update', { requestObject: nsObj({ 'bulwark.io/mode': 'warn' }) }), fires: true },
  {
    name: 'a namespace created with mode audit',
    event: nsWrite('create', { requestURI: '/api/v1/namespaces', requestObject: nsObj({ 'bulwark.io/mode': 'audit' }) }),
    fires: true,
  },
  {
    name: 'a patch of another label on a namespace already in audit',
    event: nsWrite('patch', { requestObject: { metadata: { labels: { team: 'a' } } }, responseObject: nsObj({ 'bulwark.io/mode': 'audit', team: 'a' }) }),
    fires: false,
  },
  {
    name: 'relabel to enforce',
    event: nsWrite('patch', {
      requestObject: { metadata: { labels: { 'bulwark.io/mode': 'enforce' } } },
      responseObject: nsObj({ 'bulwark.io/mode': 'enforce' }),
    }),
    fires: false,
  },
  {
    name: 'by a mode admin (system:masters)',
    event: nsWrite('patch', {
      user: { username: 'root', groups: ['system:masters'] },
      requestObject: { metadata: { labels: { 'bulwark.io/mode': 'audit' } } },
      responseObject: nsObj({ 'bulwark.io/mode': 'audit' }),
    }),
    fires: false,
  },
  {
    name: 'by someone impersonating a mode admin group',
    event: nsWrite('patch', {
      impersonatedUser: { username: 'root', groups: ['system:masters'] },
      requestObject: { metadata: { labels: { 'bulwark.io/mode': 'audit' } } },
      responseObject: nsObj({ 'bulwark.io/mode': 'audit' }),
    }),
    fires: true,
  },
  {
    name: 'by a configured mode admin (glob)',
    event: nsWrite('patch', {
      user: { username: 'platform-bot', groups: [] },
      requestObject: { metadata: { labels: { 'bulwark.io/mode': 'audit' } } },
      responseObject: nsObj({ 'bulwark.io/mode': 'audit' }),
    }),
    fires: false,
    config: { tampering: { ...defaultConfig().tampering, modeAdmins: { users: ['platform-*'], groups: [] } } },
  },
  {
    name: 'a Request-level kubectl label (the merge patch alone, no response object)',
    event: nsWrite('patch', { level: 'Request', requestObject: { metadata: { labels: { 'bulwark.io/mode': 'audit' } } } }),
    fires: true,
  },
  {
    name: 'a Request-level merge patch to enforce',
    event: nsWrite('patch', { level: 'Request', requestObject: { metadata: { labels: { 'bulwark.io/mode': 'enforce' } } } }),
    fires: false,
  },
  { name: 'a Metadata-level namespace patch (no body to judge)', event: { verb: 'patch', objectRef: nsRef }, fires: false },
  {
    name: 'a forbidden relabel',
    event: nsWrite('patch', { responseStatus: forbidden, requestObject: { metadata: { labels: { 'bulwark.io/mode': 'audit' } } } }),
    fires: false,
  },
  {
    name: 'a dry-run relabel',
    event: nsWrite('patch', {
      requestURI: '/api/v1/namespaces/prod?dryRun=All',
      requestObject: { metadata: { labels: { 'bulwark.io/mode': 'audit' } } },
      responseObject: nsObj({ 'bulwark.io/mode': 'audit' }),
    }),
    fires: false,
  },
  {
    name: 'deleting Bulwark’s namespace',
    event: { verb: 'delete', requestURI: '/api/v1/namespaces/bulwark-system', objectRef: { resource: 'namespaces', name: 'bulwark-system', apiVersion: 'v1' } },
    fires: true,
  },
  { name: 'deleting another namespace', event: { verb: 'delete', requestURI: '/api/v1/namespaces/prod', objectRef: nsRef }, fires: false },
  // Bulwark's own objects.
  { name: 'a patch of Bulwark’s ConfigMap', event: obj('configmaps', 'bulwark'), fires: true },
  { name: 'an update of the serving certificate Secret', event: obj('secrets', 'bulwark-tls', { verb: 'update' }), fires: true },
  {
    name: 'deleting the Deployment',
    event: obj('deployments', 'bulwark', { verb: 'delete', requestURI: '/apis/apps/v1/namespaces/bulwark-system/deployments/bulwark' }),
    fires: true,
  },
  {
    name: 'scaling the Deployment to zero (scale subresource)',
    event: obj('deployments', 'bulwark', {
      verb: 'patch',
      objectRef: { resource: 'deployments', subresource: 'scale', namespace: 'bulwark-system', name: 'bulwark', apiGroup: 'apps', apiVersion: 'v1' },
    }),
    fires: true,
  },
  {
    name: 'deleting every ConfigMap of the namespace',
    event: obj('configmaps', '', { verb: 'deletecollection', objectRef: { resource: 'configmaps', namespace: 'bulwark-system', apiVersion: 'v1' } }),
    fires: true,
  },
  {
    name: 'the deployment controller updating status',
    event: obj('deployments', 'bulwark', {
      verb: 'update',
      user: sa('kube-system', 'deployment-controller'),
      objectRef: { resource: 'deployments', subresource: 'status', namespace: 'bulwark-system', name: 'bulwark', apiGroup: 'apps', apiVersion: 'v1' },
    }),
    fires: false,
  },
  {
    name: 'cert-manager renewing the Secret (default allowed)',
    event: obj('secrets', 'bulwark-tls', { verb: 'update', user: sa('cert-manager', 'cert-manager') }),
    fires: false,
  },
  { name: 'Bulwark’s own service account', event: obj('configmaps', 'bulwark', { user: sa('bulwark-system', 'bulwark') }), fires: false },
  { name: 'a service account named bulwark in another namespace', event: obj('configmaps', 'bulwark', { user: sa('prod', 'bulwark') }), fires: true },
  { name: 'impersonating Bulwark’s service account', event: obj('configmaps', 'bulwark', { impersonatedUser: sa('bulwark-system', 'bulwark') }), fires: true },
  {
    name: 'a configured allowed group',
    event: obj('configmaps', 'bulwark', { user: { username: 'ops', groups: ['security-admins'] } }),
    fires: false,
    config: { tampering: { ...defaultConfig().tampering, allowedGroups: ['security-admins'] } },
  },
  {
    name: 'a ConfigMap named bulwark in another namespace',
    event: { ...obj('configmaps', 'bulwark'), objectRef: { resource: 'configmaps', namespace: 'prod', name: 'bulwark', apiVersion: 'v1' } },
    fires: false,
  },
  { name: 'another object in Bulwark’s namespace', event: obj('configmaps', 'kube-root-ca.crt'), fires: false },
  { name: 'a get of the Secret', event: obj('secrets', 'bulwark-tls', { verb: 'get' }), fires: false },
  { name: 'a forbidden patch', event: obj('configmaps', 'bulwark', { responseStatus: forbidden }), fires: false },
  {
    name: 'a Bulwark running in its own namespace (tampering.namespace)',
    event: { ...obj('configmaps', 'bulwark'), objectRef: { resource: 'configmaps', namespace: 'security', name: 'bulwark', apiVersion: 'v1' } },
    fires: true,
    config: { tampering: { ...defaultConfig().tampering, namespace: 'security' } },
  },
  // Webhook configurations.
  {
    name: 'a patch of Bulwark’s ValidatingWebhookConfiguration',
    event: { verb: 'patch', objectRef: whRef('validatingwebhookconfigurations', 'bulwark') },
    fires: true,
  },
  {
    name: 'deleting Bulwark’s MutatingWebhookConfiguration',
    event: { verb: 'delete', objectRef: whRef('mutatingwebhookconfigurations', 'bulwark-mutate') },
    fires: true,
  },
  {
    name: 'Bulwark’s service account keeping the caBundle in sync',
    event: { verb: 'patch', user: sa('bulwark-system', 'bulwark'), objectRef: whRef('validatingwebhookconfigurations', 'bulwark') },
    fires: false,
  },
  {
    name: 'cert-manager cainjector',
    event: { verb: 'patch', user: sa('cert-manager', 'cert-manager-cainjector'), objectRef: whRef('validatingwebhookconfigurations', 'bulwark') },
    fires: false,
  },
  {
    name: 'another product’s webhook',
    event: { verb: 'patch', objectRef: whRef('validatingwebhookconfigurations', 'kyverno-resource-validating-webhook-cfg') },
    fires: false,
  },
  {
    name: 'deleting the ValidatingAdmissionPolicy backstop of a check',
    event: { verb: 'delete', objectRef: whRef('validatingadmissionpolicies', 'bulwark-privileged-container') },
    fires: true,
  },
  {
    name: 'switching a VAP binding to Audit (update)',
    event: { verb: 'update', objectRef: whRef('validatingadmissionpolicybindings', 'bulwark-host-namespaces') },
    fires: true,
  },
  {
    name: 'deleting every binding at once (deletecollection)',
    event: {
      verb: 'deletecollection',
      objectRef: { resource: 'validatingadmissionpolicybindings', apiGroup: 'admissionregistration.k8s.io', apiVersion: 'v1' },
    },
    fires: true,
  },
  {
    name: 'a v1beta1 VAP of Bulwark patched',
    event: { verb: 'patch', objectRef: { ...whRef('validatingadmissionpolicies', 'bulwark-sensitive-host-mount'), apiVersion: 'v1beta1' } },
    fires: true,
  },
  {
    name: 'Bulwark’s VAP changed by the release’s own service account (helm upgrade in-cluster)',
    event: { verb: 'patch', user: sa('bulwark-system', 'bulwark'), objectRef: whRef('validatingadmissionpolicies', 'bulwark-privileged-container') },
    fires: false,
  },
  {
    name: 'another product’s VAP',
    event: { verb: 'delete', objectRef: whRef('validatingadmissionpolicies', 'kyverno-policy') },
    fires: false,
  },
];

describe(ID, () => {
  it.each(cases)('$name → fires: $fires', ({ event, fires, config }) => {
    const analyser = new AuditAnalyser({ config: { ...defaultConfig(), ...config } });
    const types = analyser.analyse(auditEvent(event as Partial<AuditEvent>)).map((a) => a.type);
    if (fires) expect(types).toContain(ID);
    else expect(types).not.toContain(ID);
  });

  it('says what was weakened, by whom; high, with tactics and remediation', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const [relabel] = analyser.analyse(
      auditEvent(
        nsWrite('patch', {
          requestObject: { metadata: { labels: { 'bulwark.io/mode': 'audit' } } },
          responseObject: nsObj({ 'bulwark.io/mode': 'audit' }),
        }) as Partial<AuditEvent>,
      ),
    );
    expect(relabel).toMatchObject({ type: ID, severity: 'high', title: 'Bulwark itself weakened or changed', namespace: 'prod' });
    expect(relabel!.message).toBe('alice@example.com patched namespace prod: sets bulwark.io/mode=audit, weaker than enforce (the default)');
    expect(relabel!.tactics).toContain('Defense Evasion');
    const [cm] = analyser.analyse(auditEvent(obj('configmaps', 'bulwark') as Partial<AuditEvent>));
    expect(cm!.message).toBe("alice@example.com patched ConfigMap bulwark-system/bulwark, one of Bulwark's own objects");
    const [wh] = analyser
      .analyse(auditEvent({ verb: 'delete', objectRef: whRef('validatingwebhookconfigurations', 'bulwark') } as Partial<AuditEvent>))
      .filter((a) => a.type === ID);
    expect(wh!.message).toBe("alice@example.com deleted ValidatingWebhookConfiguration bulwark, one of Bulwark's own objects");
  });

  it('the server namespace given to the analyser is Bulwark’s namespace when tampering.namespace is unset', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig(), serverNamespace: 'security' });
    const ev = { ...obj('configmaps', 'bulwark'), objectRef: { resource: 'configmaps', namespace: 'security', name: 'bulwark', apiVersion: 'v1' } };
    expect(analyser.analyse(auditEvent(ev as Partial<AuditEvent>)).map((a) => a.type)).toContain(ID);
    expect(analyser.analyse(auditEvent({ ...ev, user: sa('security', 'bulwark') } as Partial<AuditEvent>)).map((a) => a.type)).not.toContain(ID);
  });
});
