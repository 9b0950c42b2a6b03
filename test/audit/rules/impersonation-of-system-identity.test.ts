// impersonation-of-system-identity: a table of cases, on events shaped like the API server's
// (impersonatedUser is present only once the impersonation itself was authorized).
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import { defaultConfig } from '../../../config/load.js';
import { ALICE, auditEvent } from '../helpers.js';

const ID = 'impersonation-of-system-identity';
const analyse = (event: Partial<AuditEvent> & Record<string, unknown>, audit: Record<string, unknown> = {}) =>
  new AuditAnalyser({ config: { ...defaultConfig(), audit } }).analyse(auditEvent(event)).filter((a) => a.type === ID);
const as = (username: string, groups: string[] = ['system:authenticated']) => ({ impersonatedUser: { username, groups } });
const forbidden = { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 } as AuditEvent['responseStatus'];

describe(ID, () => {
  it.each([
    ['the scheduler', as('system:kube-scheduler'), 'high'],
    ['the controller manager', as('system:kube-controller-manager'), 'high'],
    ['the API server', as('system:apiserver', ['system:masters']), 'high'],
    ['a node', as('system:node:worker-1', ['system:nodes', 'system:authenticated']), 'high'],
    ['a control-plane controller service account', as('system:serviceaccount:kube-system:clusterrole-aggregation-controller'), 'high'],
    ['any user with the system:masters group', as('bob', ['system:masters', 'system:authenticated']), 'high'],
    [
      'a workload service account',
      as('system:serviceaccount:prod:web', ['system:serviceaccounts', 'system:serviceaccounts:prod', 'system:authenticated']),
      'medium',
    ],
    ['system:anonymous', as('system:anonymous', ['system:unauthenticated']), 'medium'],
    ['a user with the system:nodes group', as('mallory', ['system:nodes', 'system:authenticated']), 'high'],
    ['a request the authorizer then forbade (the impersonation itself was allowed)', { ...as('system:kube-scheduler'), responseStatus: forbidden }, 'high'],
    ['at ResponseStarted (a watch)', { ...as('system:kube-scheduler'), stage: 'ResponseStarted', verb: 'watch' }, 'high'],
  ] as const)('fires when impersonating %s', (_name, event, severity) => {
    const alerts = analyse(event);
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.severity).toBe(severity);
  });

  it.each([
    ['no impersonation', {}],
    ['impersonating a person', as('bob@example.com')],
    ['impersonating a person with only system:authenticated', as('bob', ['system:authenticated'])],
    ['a control-plane identity acting as itself', { user: { username: 'system:kube-scheduler', groups: ['system:authenticated'] } }],
    ['RequestReceived (no impersonatedUser yet)', { stage: 'RequestReceived', responseStatus: undefined }],
    ['switched off', { ...as('system:kube-scheduler'), _audit: { disabled: [ID] } }],
  ])('does not fire on %s', (_name, event) => {
    const { _audit, ...ev } = event as Record<string, unknown>;
    expect(analyse(ev, (_audit as Record<string, unknown>) ?? {})).toEqual([]);
  });

  it('names both identities; the user is the impersonated one with the impersonator beside it', () => {
    const [alert] = analyse({
      ...as('system:kube-scheduler'),
      verb: 'list',
      requestURI: '/api/v1/secrets',
      objectRef: { resource: 'secrets', apiVersion: 'v1' },
    });
    expect(alert!.message).toBe('alice@example.com impersonated the system identity system:kube-scheduler (list /api/v1/secrets)');
    expect(alert!.user).toEqual({ username: 'system:kube-scheduler', groups: ['system:authenticated'], impersonator: ALICE });
    expect(alert!.tactics).toEqual(['Privilege Escalation', 'Defense Evasion']);
    expect(alert!.evidence).toMatchObject({ impersonator: 'alice@example.com', impersonatedUser: 'system:kube-scheduler', systemGroups: [] });
    expect(alert!.remediation).toContain('impersonate');
  });

  it('one alert per impersonator and identity within the window, whatever object was touched', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const a = analyser
      .analyse(auditEvent({ ...as('system:kube-scheduler'), objectRef: { resource: 'pods', namespace: 'a', name: 'x', apiVersion: 'v1' } }))
      .find((x) => x.type === ID)!;
    const b = analyser
      .analyse(auditEvent({ ...as('system:kube-scheduler'), objectRef: { resource: 'secrets', namespace: 'b', name: 'y', apiVersion: 'v1' } }))
      .find((x) => x.type === ID)!;
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('the other rules judge the request as the authenticated user would be judged: no control-plane exemption', () => {
    const types = new AuditAnalyser({ config: defaultConfig() })
      .analyse(
        auditEvent({
          ...as('system:kube-controller-manager'),
          verb: 'list',
          requestURI: '/api/v1/secrets',
          objectRef: { resource: 'secrets', apiVersion: 'v1' },
        }),
      )
      .map((a) => a.type);
    expect(types).toEqual(expect.arrayContaining([ID, 'secrets-enumerated']));
  });
});
