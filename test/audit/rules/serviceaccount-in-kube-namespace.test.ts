// serviceaccount-in-kube-namespace: a table of cases on API-server-shaped events.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import { defaultConfig, parseConfig } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';

const ID = 'serviceaccount-in-kube-namespace';
const sa = (namespace: string | undefined, extra: Record<string, unknown> = {}) =>
  auditEvent({
    verb: 'create',
    requestURI: `/api/v1/namespaces/${namespace ?? 'x'}/serviceaccounts`,
    objectRef: { resource: 'serviceaccounts', apiVersion: 'v1', ...(namespace ? { namespace } : {}), name: 'backdoor' },
    responseStatus: { metadata: {}, code: 201 },
    ...extra,
  });
const analyse = (ev: AuditEvent, config = defaultConfig()) => new AuditAnalyser({ config }).analyse(ev).filter((a) => a.type === ID);

describe(ID, () => {
  it.each([
    ['kube-system, namespace only in objectRef (no body, level Metadata)', sa('kube-system'), 'kube-system/backdoor'],
    ['kube-public', sa('kube-public'), 'kube-public/backdoor'],
    [
      'a body without namespace at level Request',
      sa('kube-system', { level: 'Request', requestObject: { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name: 'backdoor' } } }),
      'kube-system/backdoor',
    ],
    [
      'no name in objectRef, name from the body',
      sa('kube-system', {
        objectRef: { resource: 'serviceaccounts', namespace: 'kube-system', apiVersion: 'v1' },
        requestObject: { kind: 'ServiceAccount', metadata: { name: 'b2' } },
      }),
      'kube-system/b2',
    ],
    [
      'a person impersonating a controller',
      sa('kube-system', { user: { username: 'mallory', groups: [] }, impersonatedUser: { username: 'system:kube-controller-manager', groups: [] } }),
      'mallory (impersonating',
    ],
    ['a namespace added to systemNamespaces', sa('infra'), 'infra/backdoor', 'lists: {systemNamespaces: {append: [infra]}}'],
  ] as const)('fires on %s', (_n, ev, text, cfg?: string) => {
    const alerts = analyse(ev as AuditEvent, cfg ? parseConfig(cfg) : defaultConfig());
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.message).toContain(text);
    expect(alerts[0]!.severity).toBe('medium');
    expect(alerts[0]!.resource.kind).toBe('ServiceAccount');
  });

  it.each([
    ['another namespace', sa('default')],
    [
      'the control plane (a controller creating the default account)',
      sa('kube-system', { user: { username: 'system:serviceaccount:kube-system:service-account-controller', groups: [] } }),
    ],
    ['a forbidden create', sa('kube-system', { responseStatus: { metadata: {}, code: 403 } })],
    ['a dry run', sa('kube-system', { requestURI: '/api/v1/namespaces/kube-system/serviceaccounts?dryRun=All' })],
    [
      'a token request (subresource)',
      sa('kube-system', { objectRef: { resource: 'serviceaccounts', subresource: 'token', namespace: 'kube-system', name: 'x', apiVersion: 'v1' } }),
    ],
    ['an update', sa('kube-system', { verb: 'update' })],
    ['no namespace anywhere', sa(undefined)],
    ['a lone ResponseStarted without a code', sa('kube-system', { stage: 'ResponseStarted', responseStatus: undefined })],
  ] as const)('does not fire on %s', (_n, ev) => {
    expect(analyse(ev as AuditEvent)).toEqual([]);
  });
});
