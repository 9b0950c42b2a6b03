// ephemeral-container-added: the 1.22+ Pod shape (update and patch of pods/ephemeralcontainers)
// and the ≤1.21 EphemeralContainers kind, on API-server-shaped events.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import { defaultConfig } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';

const ID = 'ephemeral-container-added';
const debugContainer = { name: 'debugger-x7k', image: 'busybox:1.36', command: ['sh'], stdin: true, tty: true, targetContainerName: 'app' };
const ephemeral = (verb: string, namespace: string | undefined, extra: Record<string, unknown> = {}) =>
  auditEvent({
    verb,
    level: 'Request',
    requestURI: `/api/v1/namespaces/${namespace ?? 'default'}/pods/web-0/ephemeralcontainers`,
    objectRef: { resource: 'pods', subresource: 'ephemeralcontainers', apiVersion: 'v1', name: 'web-0', ...(namespace ? { namespace } : {}) },
    ...extra,
  });
const pod122 = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'web-0' },
  spec: { containers: [{ name: 'app', image: 'nginx' }], ephemeralContainers: [debugContainer] },
};
const kind121 = { kind: 'EphemeralContainers', apiVersion: 'v1', metadata: { name: 'web-0' }, ephemeralContainers: [debugContainer] };
const patch = { spec: { ephemeralContainers: [debugContainer] } };
const analyse = (ev: AuditEvent) => new AuditAnalyser({ config: defaultConfig() }).analyse(ev).filter((a) => a.type === ID);

describe(ID, () => {
  it.each([
    [
      '1.22+ kubectl debug: a strategic-merge patch',
      ephemeral('patch', 'default', { requestObject: patch }),
      'medium',
      'debugger-x7k (busybox:1.36) targeting app',
    ],
    ['1.22+ an update with the whole Pod', ephemeral('update', 'default', { requestObject: pod122 }), 'medium', 'debugger-x7k'],
    ['≤1.21 the EphemeralContainers kind', ephemeral('update', 'default', { requestObject: kind121 }), 'medium', 'debugger-x7k'],
    ['level Metadata: no body, still an alert', ephemeral('patch', 'default', { level: 'Metadata' }), 'medium', 'pod default/web-0'],
    ['in kube-system, namespace only in objectRef: high', ephemeral('patch', 'kube-system', { requestObject: patch }), 'high', 'kube-system/web-0'],
    [
      'a privileged debug container: high',
      ephemeral('patch', 'default', { requestObject: { spec: { ephemeralContainers: [{ ...debugContainer, securityContext: { privileged: true } }] } } }),
      'high',
      'debugger-x7k',
    ],
    [
      'a person impersonating the scheduler',
      ephemeral('patch', 'default', {
        requestObject: patch,
        user: { username: 'mallory', groups: [] },
        impersonatedUser: { username: 'system:kube-scheduler', groups: [] },
      }),
      'medium',
      'mallory (impersonating',
    ],
    ['the container only in the response', ephemeral('patch', 'default', { requestObject: { spec: {} }, responseObject: pod122 }), 'medium', 'debugger-x7k'],
  ] as const)('fires on %s', (_n, ev, severity, text) => {
    const alerts = analyse(ev as AuditEvent);
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.severity).toBe(severity);
    expect(alerts[0]!.message).toContain(text);
    expect(alerts[0]!.resource).toEqual({ group: '', version: 'v1', kind: 'Pod', name: 'web-0' });
  });

  it.each([
    ['a plain pod patch', ephemeral('patch', 'default', { objectRef: { resource: 'pods', namespace: 'default', name: 'web-0', apiVersion: 'v1' } })],
    ['a read of the subresource', ephemeral('get', 'default')],
    ['a forbidden patch', ephemeral('patch', 'default', { requestObject: patch, responseStatus: { metadata: {}, code: 403 } })],
    ['a dry run', ephemeral('patch', 'default', { requestObject: patch, requestURI: '/api/v1/namespaces/default/pods/web-0/ephemeralcontainers?dryRun=All' })],
    ['RequestReceived', ephemeral('patch', 'default', { stage: 'RequestReceived', responseStatus: undefined })],
    [
      'an exec whose body names ephemeral containers',
      ephemeral('patch', 'default', {
        requestObject: { spec: { ephemeralContainers: 'sh' } },
        objectRef: { resource: 'pods', subresource: 'exec', namespace: 'default', name: 'web-0' },
      }),
    ],
  ] as const)('does not fire on %s', (_n, ev) => {
    expect(analyse(ev as AuditEvent)).toEqual([]);
  });

  it('a hostile body still alerts, listing nothing it cannot read', () => {
    const alerts = analyse(
      ephemeral('patch', 'default', { requestObject: { spec: { ephemeralContainers: ['x', 7, null, { name: 5, command: 'sh' }] } } }) as AuditEvent,
    );
    expect(alerts.length).toBe(1);
    expect((alerts[0]!.evidence.containers as unknown[]).length).toBe(1);
  });
});
