// port-forward: SPDY (create) and WebSocket (get) sessions, alerted when they open.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import type { AuditEvent } from '../../../audit/event.js';
import { defaultConfig } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';

const ID = 'port-forward';
const pf = (verb: string, extra: Record<string, unknown> = {}) =>
  auditEvent({
    verb,
    stage: 'ResponseStarted',
    requestURI: '/api/v1/namespaces/db/pods/postgres-0/portforward?ports=5432',
    objectRef: { resource: 'pods', subresource: 'portforward', namespace: 'db', name: 'postgres-0', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 101 },
    ...extra,
  });

describe(ID, () => {
  it.each([
    ['a SPDY session (create) at a lone ResponseStarted', pf('create'), '(ports 5432)'],
    ['a WebSocket session (get)', pf('get'), 'db/postgres-0'],
    ['a session seen only at ResponseComplete', pf('create', { stage: 'ResponseComplete', responseStatus: { metadata: {}, code: 200 } }), 'postgres-0'],
    [
      'several ports, no namespace in the URL query',
      pf('create', { requestURI: '/api/v1/namespaces/db/pods/postgres-0/portforward?ports=5432,8080&ports=9000' }),
      '(ports 5432, 8080, 9000)',
    ],
    [
      'a person impersonating a controller',
      pf('create', { user: { username: 'mallory', groups: [] }, impersonatedUser: { username: 'system:kube-controller-manager', groups: [] } }),
      'mallory (impersonating',
    ],
  ] as const)('fires (low) on %s', (_n, ev, text) => {
    const alerts = new AuditAnalyser({ config: defaultConfig() }).analyse(ev as AuditEvent).filter((a) => a.type === ID);
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.severity).toBe('low');
    expect(alerts[0]!.message).toContain(text);
  });

  it('one session alerts once: ResponseStarted then ResponseComplete', () => {
    const a = new AuditAnalyser({ config: defaultConfig() });
    const started = pf('create');
    const done = { ...started, stage: 'ResponseComplete', responseStatus: { metadata: {}, code: 200 } } as AuditEvent;
    expect(a.analyse(started).filter((x) => x.type === ID).length).toBe(1);
    expect(a.analyse(done).filter((x) => x.type === ID).length).toBe(0);
  });

  it.each([
    ['a forbidden session', pf('create', { responseStatus: { metadata: {}, code: 403 } })],
    ['an exec (another subresource)', pf('create', { objectRef: { resource: 'pods', subresource: 'exec', namespace: 'db', name: 'postgres-0' } })],
    ['RequestReceived', pf('create', { stage: 'RequestReceived', responseStatus: undefined })],
    ['a lone ResponseStarted without a response code', pf('create', { responseStatus: undefined })],
    ['an odd verb', pf('delete')],
  ] as const)('does not fire on %s', (_n, ev) => {
    expect(new AuditAnalyser({ config: defaultConfig() }).analyse(ev as AuditEvent).filter((a) => a.type === ID)).toEqual([]);
  });
});
