// system-clusterrole-modified: a table of cases on API-server-shaped events.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import { defaultConfig, parseConfig } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';

const ID = 'system-clusterrole-modified';
const role = (verb: string, name: string | undefined, resource = 'clusterroles', extra: Record<string, unknown> = {}) =>
  auditEvent({
    verb,
    requestURI: `/apis/rbac.authorization.k8s.io/v1/${resource}${name ? `/${encodeURIComponent(name)}` : ''}`,
    objectRef: { resource, apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1', ...(name !== undefined ? { name } : {}) },
    ...extra,
  });
const analyse = (ev: AuditEvent, config = defaultConfig()) => new AuditAnalyser({ config }).analyse(ev).filter((a) => a.type === ID);
const denied = { responseStatus: { metadata: {}, code: 403 } };
const apiserver = { user: { username: 'system:apiserver', groups: ['system:masters'] } };

describe(ID, () => {
  it.each([
    ['a patch of system:node', role('patch', 'system:node'), 'patched bootstrap ClusterRole system:node'],
    ['an update of system:basic-user', role('update', 'system:basic-user'), 'updated bootstrap ClusterRole system:basic-user'],
    [
      'a delete of the system:discovery binding',
      role('delete', 'system:discovery', 'clusterrolebindings'),
      'deleted bootstrap ClusterRoleBinding system:discovery',
    ],
    ['a deletecollection (no name)', role('deletecollection', undefined), 'deleted every ClusterRole (deletecollection)'],
    [
      'the API server impersonated by a person',
      role('patch', 'system:node', 'clusterroles', {
        user: { username: 'mallory', groups: [] },
        impersonatedUser: { username: 'system:apiserver', groups: ['system:masters'] },
      }),
      'mallory (impersonating system:apiserver)',
    ],
    [
      'a service account',
      role('update', 'system:controller:node-controller', 'clusterroles', { user: { username: 'system:serviceaccount:default:x', groups: [] } }),
      'system:controller:node-controller',
    ],
  ] as const)('fires on %s', (_n, ev, text) => {
    const alerts = analyse(ev);
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.severity).toBe('high');
    expect(alerts[0]!.message).toContain(text);
    expect(alerts[0]!.tactics).toEqual(['Privilege Escalation', 'Persistence']);
    expect(alerts[0]!.remediation).not.toBe('');
  });

  it.each([
    ['a create (new roles are not bootstrap ones)', role('create', 'system:node')],
    ['a role without the system: prefix', role('patch', 'edit')],
    ['the API server reconciling', role('update', 'system:node', 'clusterroles', apiserver)],
    ['a forbidden change', role('patch', 'system:node', 'clusterroles', denied)],
    ['a dry run', role('patch', 'system:node', 'clusterroles', { requestURI: '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:node?dryRun=All' })],
    ['a namespaced Role named system:x', role('patch', 'system:x', 'roles')],
    ['an add-on role in systemRoleNamesIgnored', role('patch', 'system:coredns')],
    ['a read', role('get', 'system:node')],
    ['RequestReceived', role('patch', 'system:node', 'clusterroles', { stage: 'RequestReceived', responseStatus: undefined })],
    [
      'an event without objectRef',
      auditEvent({ verb: 'patch', objectRef: undefined, requestURI: '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:node' }),
    ],
    [
      'the wrong API group',
      role('patch', 'system:node', 'clusterroles', { objectRef: { resource: 'clusterroles', apiGroup: 'evil.example.com', name: 'system:node' } }),
    ],
  ] as const)('does not fire on %s', (_n, ev) => {
    expect(analyse(ev as AuditEvent)).toEqual([]);
  });

  it('an exception by user silences it; another user still fires', () => {
    const config = parseConfig('exceptions: {system-clusterrole-modified: {users: [gitops-*]}}');
    expect(analyse(role('patch', 'system:node', 'clusterroles', { user: { username: 'gitops-bot', groups: [] } }), config)).toEqual([]);
    expect(analyse(role('patch', 'system:node'), config).length).toBe(1);
  });
});
