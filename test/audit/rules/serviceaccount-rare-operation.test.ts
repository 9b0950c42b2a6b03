// serviceaccount-rare-operation: a service account's operations learned for anomaly.learningPeriod
// (event time), then an operation outside them alerts — once per (account, operation) per window.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import { Deduplicator } from '../../../audit/dedup.js';
import type { AuditEvent } from '../../../audit/event.js';
import type { Alert } from '../../../alerts/model.js';
import { defaultConfig, type BulwarkConfig } from '../../../config/load.js';
import { auditEvent } from '../helpers.js';

const ID = 'serviceaccount-rare-operation';
const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1, 8);
const WEB = { username: 'system:serviceaccount:shop:web', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] };
const CLIENT_UA = 'web/v0.0.0 (linux/amd64) kubernetes/$Format';
const time = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

/** A request of `user` at START + `days`, shaped like the API server's. */
function req(days: number, verb: string, resource: string, namespace: string | undefined, extra: Record<string, unknown> = {}): AuditEvent {
  const t = START + days * DAY;
  const ns = namespace ? `/namespaces/${namespace}` : '';
  return auditEvent({
    verb,
    user: WEB,
    userAgent: CLIENT_UA,
    requestURI: `/api/v1${ns}/${resource}`,
    objectRef: { resource, ...(namespace ? { namespace } : {}), apiVersion: 'v1' },
    requestReceivedTimestamp: time(t),
    stageTimestamp: time(t + 5),
    ...extra,
  });
}

function analyser(config: Partial<BulwarkConfig> = {}): AuditAnalyser {
  return new AuditAnalyser({ config: { ...defaultConfig(), anomaly: { learningPeriod: '7d' }, ...config } });
}

/** The analyser after a week of the web account's ordinary traffic (get/list/watch configmaps and pods in shop). */
function learned(config: Partial<BulwarkConfig> = {}): AuditAnalyser {
  const a = analyser(config);
  for (let d = 0; d < 7; d += 0.5) {
    for (const ev of [req(d, 'get', 'configmaps', 'shop'), req(d, 'list', 'pods', 'shop'), req(d, 'watch', 'pods', 'shop')]) expect(a.analyse(ev)).toEqual([]);
  }
  return a;
}
const rare = (alerts: readonly Alert[]) => alerts.filter((x) => x.type === ID);

describe(ID, () => {
  it.each([
    ['list secrets across all namespaces', req(8, 'list', 'secrets', undefined), 'list secrets cluster-wide'],
    ['the same verb in another namespace', req(8, 'get', 'configmaps', 'payments'), 'get configmaps in payments'],
    ['a new verb on a known resource', req(8, 'delete', 'pods', 'shop'), 'delete pods in shop'],
    [
      'exec into a pod (a lone ResponseStarted 101)',
      req(8, 'create', 'pods', 'shop', {
        stage: 'ResponseStarted',
        objectRef: { resource: 'pods', subresource: 'exec', namespace: 'shop', name: 'db-0', apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: 101 },
      }),
      'create pods/exec in shop',
    ],
    [
      'RBAC in another API group',
      req(8, 'create', 'clusterrolebindings', undefined, {
        objectRef: { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1' },
      }),
      'create rbac.authorization.k8s.io/clusterrolebindings cluster-wide',
    ],
    [
      'an impersonated request (someone acting as the account)',
      req(8, 'list', 'secrets', 'shop', { user: { username: 'mallory', groups: ['system:authenticated'] }, impersonatedUser: WEB }),
      'list secrets in shop',
    ],
  ])('alerts (medium) after the window on %s', (_n, ev, operation) => {
    const alerts = rare(learned().analyse(ev));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'medium', source: 'audit', user: { username: WEB.username } });
    expect(alerts[0]!.evidence).toMatchObject({ operation, learnedOperations: 3, learningEnded: new Date(START + 7 * DAY).toISOString() });
    expect(alerts[0]!.message).toContain(`performed "${operation}"`);
  });

  it.each([
    ['a learned operation after the window', req(9, 'list', 'pods', 'shop')],
    ['a new operation inside the window', req(6.9, 'list', 'secrets', undefined)],
    ['a failed request', req(8, 'list', 'secrets', undefined, { responseStatus: { metadata: {}, code: 403 } })],
    ['a dry run', req(8, 'delete', 'pods', 'shop', { requestURI: '/api/v1/namespaces/shop/pods/x?dryRun=All' })],
    ['RequestReceived', req(8, 'delete', 'pods', 'shop', { stage: 'RequestReceived', responseStatus: undefined })],
    ['a person (not a service account)', req(8, 'list', 'secrets', undefined, { user: { username: 'alice', groups: [] } })],
    [
      'a control-plane identity',
      req(8, 'create', 'pods', 'shop', { user: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: [] } }),
    ],
    ['an event without timestamps', req(8, 'list', 'secrets', undefined, { requestReceivedTimestamp: undefined, stageTimestamp: undefined })],
  ])('does not alert on %s', (_n, ev) => {
    expect(rare(learned().analyse(ev))).toEqual([]);
  });

  it('a new account learns first: its first week raises nothing', () => {
    const a = learned();
    const other = { username: 'system:serviceaccount:shop:batch', groups: [] };
    expect(rare(a.analyse(req(8, 'list', 'secrets', undefined, { user: other })))).toEqual([]);
    expect(rare(a.analyse(req(16, 'delete', 'secrets', 'shop', { user: other })))).toHaveLength(1);
  });

  it('an impersonated request never teaches the baseline', () => {
    const a = analyser();
    a.analyse(req(0, 'get', 'configmaps', 'shop'));
    a.analyse(req(1, 'list', 'secrets', undefined, { user: { username: 'mallory', groups: [] }, impersonatedUser: WEB }));
    expect(rare(a.analyse(req(8, 'list', 'secrets', undefined)))).toHaveLength(1);
  });

  it('one alert per (account, operation): objects of one operation merge, operations stay apart', () => {
    const a = learned();
    const x = rare(a.analyse(req(8, 'get', 'secrets', 'shop', { objectRef: { resource: 'secrets', namespace: 'shop', name: 'db', apiVersion: 'v1' } })))[0]!;
    const y = rare(
      a.analyse(req(8.0005, 'get', 'secrets', 'shop', { objectRef: { resource: 'secrets', namespace: 'shop', name: 'tls', apiVersion: 'v1' } })),
    )[0]!;
    const z = rare(a.analyse(req(8.001, 'list', 'secrets', 'shop')))[0]!;
    expect(x.fingerprint).toBe(y.fingerprint);
    expect(z.fingerprint).not.toBe(x.fingerprint);
    const out: Alert[] = [];
    const dedup = new Deduplicator({ windowMs: 600_000, mode: 'hold', emit: (al) => out.push(al) });
    for (const al of [x, y, z]) dedup.add(al, Date.parse(al.firstSeen));
    dedup.flush();
    expect(out.map((al) => [al.evidence.operation, al.count])).toEqual([
      ['get secrets in shop', 2],
      ['list secrets in shop', 1],
    ]);
  });

  it('anomaly.learningPeriod sets the window', () => {
    const a = analyser({ anomaly: { learningPeriod: '1d' } });
    a.analyse(req(0, 'get', 'configmaps', 'shop'));
    expect(rare(a.analyse(req(0.5, 'list', 'secrets', 'shop')))).toEqual([]);
    expect(rare(a.analyse(req(1.5, 'delete', 'secrets', 'shop')))).toHaveLength(1);
  });

  it('is switched off by audit.disabled, and takes exceptions by user and namespace', () => {
    expect(rare(learned({ audit: { disabled: [ID] } }).analyse(req(8, 'list', 'secrets', undefined)))).toEqual([]);
    expect(rare(learned({ exceptions: { [ID]: [{ users: ['system:serviceaccount:shop:*'] }] } } as never).analyse(req(8, 'list', 'secrets', 'shop')))).toEqual(
      [],
    );
    expect(rare(learned({ exceptions: { [ID]: [{ namespaces: ['payments'] }] } } as never).analyse(req(8, 'list', 'secrets', 'shop')))).toHaveLength(1);
  });

  it('an account that reached maxOperationsPerAccount is not judged', () => {
    const a = learned({ anomaly: { learningPeriod: '7d', maxOperationsPerAccount: 3 } });
    expect(rare(a.analyse(req(8, 'list', 'secrets', undefined)))).toEqual([]);
  });
});
