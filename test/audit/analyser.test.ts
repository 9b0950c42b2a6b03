// Stages, impersonation, dry runs, failed requests, the control-plane skip list and de-duplication.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../alerts/model.js';
import { AuditAnalyser, requestKey } from '../../audit/analyser.js';
import { AUDIT_RULES } from '../../audit/rules/index.js';
import type { AuditFacts, RuleContext } from '../../audit/rules/types.js';
import { parseAuditSettings } from '../../audit/config.js';
import { Deduplicator } from '../../audit/dedup.js';
import type { AuditEvent } from '../../audit/event.js';
import { defaultConfig } from '../../config/load.js';
import { MAX_FINDINGS_PER_CHECK } from '../../policies/evaluate.js';
import { ConfigError } from '../../core/errors.js';
import { ALICE, at, auditEvent, auditID } from './helpers.js';

const analyser = (audit: Record<string, unknown> = {}, extra: Partial<ReturnType<typeof defaultConfig>> = {}) =>
  new AuditAnalyser({ config: { ...defaultConfig(), ...extra, audit } });

const execRef = { resource: 'pods', namespace: 'prod', name: 'web-0', apiVersion: 'v1', subresource: 'exec' };
const exec = (o: Partial<AuditEvent> = {}) =>
  auditEvent({
    verb: 'create',
    requestURI: '/api/v1/namespaces/prod/pods/web-0/exec?command=sh',
    objectRef: execRef,
    responseStatus: { metadata: {}, code: 101 },
    ...o,
  });
const privilegedPod = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'debug', namespace: 'prod' },
  spec: { containers: [{ name: 'sh', image: 'busybox:1.36', securityContext: { privileged: true } }] },
};
const podCreate = (o: Partial<AuditEvent> & Record<string, unknown> = {}) =>
  auditEvent({
    level: 'RequestResponse',
    verb: 'create',
    requestURI: '/api/v1/namespaces/prod/pods?fieldManager=kubectl-run',
    objectRef: { resource: 'pods', namespace: 'prod', name: 'debug', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: privilegedPod,
    ...o,
  });

describe('stages: each auditID alerts once', () => {
  it('RequestReceived never alerts', () => {
    expect(analyser().analyse(exec({ stage: 'RequestReceived', responseStatus: undefined }))).toEqual([]);
  });

  it('a long-running exec alerts at ResponseStarted, not again at ResponseComplete', () => {
    const a = analyser();
    const id = auditID();
    expect(a.analyse(exec({ auditID: id, stage: 'RequestReceived', responseStatus: undefined }))).toEqual([]);
    expect(a.analyse(exec({ auditID: id, stage: 'ResponseStarted' })).map((x) => x.type)).toEqual(['exec-into-pod']);
    expect(a.analyse(exec({ auditID: id, stage: 'ResponseComplete', stageTimestamp: at(300) }))).toEqual([]);
  });

  it('an exec whose ResponseStarted the audit policy omitted alerts at ResponseComplete', () => {
    expect(
      analyser()
        .analyse(exec({ stage: 'ResponseComplete' }))
        .map((x) => x.type),
    ).toEqual(['exec-into-pod']);
  });

  it('a Panic alerts when it is the first stage seen, not after ResponseStarted', () => {
    const a = analyser();
    expect(a.analyse(exec({ stage: 'Panic', responseStatus: { metadata: {}, code: 101 } })).length).toBe(1);
    const id = auditID();
    a.analyse(exec({ auditID: id, stage: 'ResponseStarted' }));
    expect(a.analyse(exec({ auditID: id, stage: 'Panic' }))).toEqual([]);
  });

  it('a replayed ResponseComplete does not alert twice', () => {
    const a = analyser();
    const ev = auditEvent({ verb: 'list', requestURI: '/api/v1/secrets', objectRef: { resource: 'secrets', apiVersion: 'v1' } });
    expect(a.analyse(ev).length).toBe(1);
    expect(a.analyse(ev)).toEqual([]);
  });

  it('a 401 is a lone ResponseStarted with user {}: analysed, no user', () => {
    const [alert] = analyser().analyse(
      auditEvent({ stage: 'ResponseStarted', user: {}, userAgent: 'kubeletctl', responseStatus: { metadata: {}, code: 401 } }),
    );
    expect(alert!.user.username).toBe('');
    expect(alert!.message).toContain('an unauthenticated client');
  });

  it('a chosen Audit-ID does not blind the analysis: a watch, an exec and a secret listing under one ID each alert', () => {
    // The API server takes auditID from the client's Audit-ID header: an attacker opens a watch with
    // it, then execs and lists secrets with the same header. Each is its own request.
    const a = analyser();
    const id = 'deadbeef-0000-4000-8000-000000000000';
    const watch = auditEvent({
      auditID: id,
      stage: 'ResponseStarted',
      verb: 'watch',
      requestURI: '/api/v1/namespaces/prod/configmaps?watch=true',
      objectRef: { resource: 'configmaps', namespace: 'prod', apiVersion: 'v1' },
      requestReceivedTimestamp: at(0),
    });
    expect(a.analyse({ ...watch, stage: 'RequestReceived', responseStatus: undefined })).toEqual([]);
    expect(a.analyse(watch)).toEqual([]);
    const ex = exec({ auditID: id, stage: 'ResponseStarted', requestReceivedTimestamp: at(5), stageTimestamp: at(5) });
    expect(a.analyse({ ...ex, stage: 'RequestReceived', responseStatus: undefined })).toEqual([]);
    expect(a.analyse(ex).map((x) => x.type)).toEqual(['exec-into-pod']);
    const list = auditEvent({
      auditID: id,
      verb: 'list',
      requestURI: '/api/v1/secrets',
      objectRef: { resource: 'secrets', apiVersion: 'v1' },
      requestReceivedTimestamp: at(9),
      stageTimestamp: at(9),
    });
    expect(a.analyse(list).map((x) => x.type)).toEqual(['secrets-enumerated']);
    // Each request's own later stages and replays are still skipped.
    expect(a.analyse({ ...ex, stage: 'ResponseComplete', stageTimestamp: at(60) })).toEqual([]);
    expect(a.analyse(list)).toEqual([]);
    expect(a.analyse({ ...watch, stage: 'ResponseComplete', stageTimestamp: at(90) })).toEqual([]);
    // Same ID, same verb and URI, but a later request (another receipt time): analysed again.
    expect(a.analyse({ ...list, requestReceivedTimestamp: at(20), stageTimestamp: at(20) }).map((x) => x.type)).toEqual(['secrets-enumerated']);
  });

  it('a second request reusing an ID while the first session is open is analysed; the first session still closes once', () => {
    const a = analyser();
    const id = auditID();
    expect(a.analyse(exec({ auditID: id, stage: 'ResponseStarted', requestReceivedTimestamp: at(0) })).length).toBe(1);
    const other = exec({
      auditID: id,
      stage: 'ResponseStarted',
      requestURI: '/api/v1/namespaces/prod/pods/web-0/exec?command=cat&command=/etc/shadow',
      requestReceivedTimestamp: at(1),
    });
    expect(a.analyse(other).length).toBe(1);
    expect(a.pendingSessions().length).toBe(2);
    expect(a.analyse(exec({ auditID: id, stage: 'ResponseComplete', requestReceivedTimestamp: at(0) }))).toEqual([]);
    expect(a.analyse({ ...other, stage: 'ResponseComplete' })).toEqual([]);
    expect(a.pendingSessions()).toEqual([]);
  });

  it('over the bound, drops the oldest 1/64 of it at once (one at a time costs a scan of the Map per request; core/evict.ts)', () => {
    const a = new AuditAnalyser({ config: defaultConfig(), maxTrackedIDs: 640 });
    const ids = Array.from({ length: 641 }, (_, i) => `7c0e4a1d-2b3c-4d5e-8f90-${i.toString(16).padStart(12, '0')}`);
    for (const id of ids.slice(0, 640)) a.analyse(exec({ auditID: id, stage: 'ResponseStarted' }));
    expect(a.pendingSessions()).toHaveLength(640);
    a.analyse(exec({ auditID: ids[640], stage: 'ResponseStarted' }));
    const pending = a.pendingSessions();
    expect(pending).toHaveLength(631);
    // The ten oldest went; the newest stayed.
    expect(pending.some((k) => k.includes(ids[9]!))).toBe(false);
    expect(pending.some((k) => k.includes(ids[10]!))).toBe(true);
    expect(pending.some((k) => k.includes(ids[640]!))).toBe(true);
  });

  it('remembers a bounded number of auditIDs', () => {
    const a = new AuditAnalyser({ config: defaultConfig(), maxTrackedIDs: 3 });
    for (let i = 0; i < 10; i++) a.analyse(exec({ stage: 'ResponseStarted' }));
    expect(a.pendingSessions().length).toBe(3);
  });
});

describe('impersonation', () => {
  it('rules about "who" use impersonatedUser; the alert shows both', () => {
    const ev = auditEvent({
      verb: 'list',
      requestURI: '/api/v1/secrets',
      objectRef: { resource: 'secrets', apiVersion: 'v1' },
      user: { username: 'system:serviceaccount:ci:deployer', groups: ['system:serviceaccounts'] },
      impersonatedUser: { username: 'mallory@example.com', groups: ['contractors'] },
    });
    const [alert] = analyser().analyse(ev);
    expect(alert!.type).toBe('secrets-enumerated');
    expect(alert!.user).toEqual({
      username: 'mallory@example.com',
      groups: ['contractors'],
      impersonator: { username: 'system:serviceaccount:ci:deployer', groups: ['system:serviceaccounts'] },
    });
    expect(alert!.message).toBe('system:serviceaccount:ci:deployer (impersonating mallory@example.com) listed secrets across all namespaces');
  });

  it('impersonating a control-plane identity does not escape the secrets rule: exemptions apply to the authenticated user', () => {
    const ev = auditEvent({
      verb: 'list',
      objectRef: { resource: 'secrets', apiVersion: 'v1' },
      impersonatedUser: { username: 'system:serviceaccount:kube-system:namespace-controller', groups: [] },
    });
    expect(
      analyser()
        .analyse(ev)
        .map((x) => x.type),
    ).toContain('secrets-enumerated');
  });

  it('impersonating a system: identity does not hide a kube-system workload: checks judge the authenticated user', () => {
    const ev = podCreate({
      impersonatedUser: { username: 'system:kube-scheduler', groups: ['system:authenticated'] },
      objectRef: { resource: 'pods', namespace: 'kube-system', name: 'debug', apiVersion: 'v1' },
      requestObject: { ...privilegedPod, metadata: { name: 'debug', namespace: 'kube-system' }, spec: { containers: [{ name: 'sh', image: 'busybox:1.36' }] } },
    });
    const alerts = analyser().analyse(ev);
    expect(alerts.map((x) => x.type)).toEqual(['impersonation-of-system-identity', 'kube-system-workload']);
    expect(alerts[1]!.message).toContain('by user "alice@example.com"');
  });

  it('an impersonated control-plane identity is not skipped by the object checks', () => {
    const ev = podCreate({ impersonatedUser: { username: 'system:kube-controller-manager', groups: [] } });
    expect(
      analyser()
        .analyse(ev)
        .map((x) => x.type),
    ).toEqual(['impersonation-of-system-identity', 'privileged-container']);
  });
});

describe('object checks', () => {
  it('a successful create of a privileged pod alerts with the policy ID as type', () => {
    const [alert] = analyser().analyse(podCreate());
    expect(alert).toMatchObject({
      type: 'privileged-container',
      severity: 'high',
      namespace: 'prod',
      resource: { group: '', version: 'v1', kind: 'Pod', name: 'debug' },
      message: 'alice@example.com created Pod prod/debug: container "sh" must not set securityContext.privileged=true',
    });
    expect(alert!.evidence.findings).toEqual([
      { message: 'container "sh" must not set securityContext.privileged=true', path: 'spec.containers[0].securityContext.privileged', image: 'busybox:1.36' },
    ]);
  });

  it('the namespace comes from objectRef when the body has none (client-go, curl, controllers)', () => {
    const bare = { ...privilegedPod, metadata: { name: 'debug' }, spec: { containers: [{ name: 'sh', image: 'busybox:1.36' }] } };
    const ev = podCreate({
      requestObject: bare,
      objectRef: { resource: 'pods', namespace: 'kube-system', name: 'debug', apiVersion: 'v1' },
      requestURI: '/api/v1/namespaces/kube-system/pods',
    });
    const alerts = analyser().analyse(ev);
    expect(alerts.map((x) => x.type)).toEqual(['kube-system-workload']);
    expect(alerts[0]!.namespace).toBe('kube-system');
    expect(alerts[0]!.message).toContain('namespace kube-system');
    // Exempt namespaces are judged by the same namespace.
    const exempt = analyser({}, { exemptions: { namespaces: ['kube-system'], usernames: [], groups: [], images: [] } });
    expect(
      exempt.analyse(podCreate({ requestObject: bare, objectRef: { resource: 'pods', namespace: 'kube-system', name: 'debug', apiVersion: 'v1' } })),
    ).toEqual([]);
  });

  it('a dry run stored nothing: no alert', () => {
    expect(analyser().analyse(podCreate({ requestURI: '/api/v1/namespaces/prod/pods?dryRun=All&fieldManager=kubectl-run' }))).toEqual([]);
  });

  it('a failed create stored nothing: no alert', () => {
    expect(analyser().analyse(podCreate({ responseStatus: { metadata: {}, code: 403 } }))).toEqual([]);
    expect(analyser().analyse(podCreate({ responseStatus: { metadata: {}, code: 422 } }))).toEqual([]);
  });

  it('the control plane is skipped: the replicaset controller creating the pod, system:apiserver bootstrap RBAC', () => {
    const rs = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] };
    expect(analyser().analyse(podCreate({ user: rs }))).toEqual([]);
    const crb = {
      kind: 'ClusterRoleBinding',
      apiVersion: 'rbac.authorization.k8s.io/v1',
      metadata: { name: 'system:discovery-anon' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:discovery' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' }],
    };
    const ev = (user: { username: string; groups: string[] }) =>
      auditEvent({
        level: 'RequestResponse',
        verb: 'create',
        user,
        objectRef: { resource: 'clusterrolebindings', name: 'system:discovery-anon', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: 201 },
        requestObject: crb,
      });
    expect(analyser().analyse(ev({ username: 'system:apiserver', groups: ['system:masters'] }))).toEqual([]);
    expect(
      analyser()
        .analyse(ev({ username: 'alice@example.com', groups: [] }))
        .map((a) => a.type),
    ).toEqual(['anonymous-binding']);
    // The skip list is configurable.
    expect(
      analyser({ controlPlaneIdentities: [] })
        .analyse(ev({ username: 'system:apiserver', groups: [] }))
        .map((a) => a.type),
    ).toEqual(['anonymous-binding']);
  });

  it('a PATCH body is a patch: the response object is evaluated; a bare patch is not', () => {
    const patchRef = { resource: 'pods', namespace: 'prod', name: 'debug', apiVersion: 'v1' };
    const patch = { spec: { containers: [{ name: 'sh', securityContext: { privileged: true } }] } };
    expect(analyser().analyse(auditEvent({ level: 'Request', verb: 'patch', objectRef: patchRef, requestObject: patch }))).toEqual([]);
    const withResponse = auditEvent({ level: 'RequestResponse', verb: 'patch', objectRef: patchRef, requestObject: patch, responseObject: privilegedPod });
    expect(
      analyser()
        .analyse(withResponse)
        .map((a) => a.type),
    ).toEqual(['privileged-container']);
  });

  it('status subresource updates are not re-evaluated; ephemeral containers are', () => {
    const ref = { resource: 'pods', namespace: 'prod', name: 'debug', apiVersion: 'v1' };
    expect(analyser().analyse(podCreate({ verb: 'update', objectRef: { ...ref, subresource: 'status' } }))).toEqual([]);
    const eph = {
      ...privilegedPod,
      spec: { containers: [{ name: 'app', image: 'app' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox', securityContext: { privileged: true } }] },
    };
    expect(
      analyser()
        .analyse(podCreate({ verb: 'patch', objectRef: { ...ref, subresource: 'ephemeralcontainers' }, responseObject: eph, requestObject: undefined }))
        .map((a) => a.type),
    ).toEqual(['ephemeral-container-added', 'privileged-container']);
  });

  it('an object with hundreds of findings of one policy alerts on the first MAX_FINDINGS_PER_CHECK and counts the rest', () => {
    const containers = Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: 'nginx', securityContext: { privileged: true } }));
    const alert = analyser()
      .analyse(podCreate({ requestObject: { ...privilegedPod, spec: { containers } } }))
      .find((a) => a.type === 'privileged-container')!;
    expect((alert.evidence.findings as unknown[]).length).toBe(MAX_FINDINGS_PER_CHECK);
    expect(alert.evidence.omittedFindings).toBe(300 - MAX_FINDINGS_PER_CHECK);
    expect(alert.message).toMatch(new RegExp(`; and ${300 - MAX_FINDINGS_PER_CHECK} more$`));
  });

  it('config: actions off and exempt namespaces apply to audit too', () => {
    expect(analyser({}, { actions: { 'privileged-container': 'off' } }).analyse(podCreate())).toEqual([]);
    expect(analyser({}, { exemptions: { namespaces: ['prod'], usernames: [], groups: [], images: [] } }).analyse(podCreate())).toEqual([]);
  });
});

describe('de-duplication', () => {
  const collect = (windowMs = 600_000) => {
    const out: Alert[] = [];
    return { out, dedup: new Deduplicator({ windowMs, mode: 'hold', emit: (a) => out.push(a) }) };
  };

  it('kubectl exec (WebSocket get, then SPDY create) is one alert with both auditIDs', () => {
    const a = analyser();
    const { out, dedup } = collect();
    const ids = [auditID(), auditID()];
    for (const x of a.analyse(exec({ auditID: ids[0], verb: 'get', stage: 'ResponseStarted', requestReceivedTimestamp: at(1) }))) dedup.add(x);
    for (const x of a.analyse(exec({ auditID: ids[1], verb: 'create', stage: 'ResponseStarted', requestReceivedTimestamp: at(1.1) }))) dedup.add(x);
    dedup.flush();
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ type: 'exec-into-pod', count: 2, auditIDs: ids });
  });

  it('a window of event time: within merges, after it a new alert; memory holds only open windows', () => {
    const a = analyser({ dedupWindow: '10m' });
    const { out, dedup } = collect(a.settings.settings.dedupWindowMs);
    for (const t of [0, 60, 599]) for (const x of a.analyse(exec({ requestReceivedTimestamp: at(t) }))) dedup.add(x);
    expect(out.length).toBe(0);
    for (const x of a.analyse(exec({ requestReceivedTimestamp: at(700) }))) dedup.add(x);
    expect(out.map((x) => x.count)).toEqual([3]);
    expect(out[0]!.firstSeen).toBe(at(0));
    // Other traffic moves event time on: the second alert's window closes without a flush.
    dedup.advance(Date.parse(at(1400)));
    expect(out.map((x) => x.count)).toEqual([3, 1]);
    expect(dedup.openCount).toBe(0);
  });

  it('different users, namespaces or types are different alerts', () => {
    const a = analyser();
    const { out, dedup } = collect();
    for (const x of a.analyse(exec())) dedup.add(x);
    for (const x of a.analyse(exec({ user: { username: 'bob', groups: [] } }))) dedup.add(x);
    for (const x of a.analyse(exec({ objectRef: { ...execRef, namespace: 'kube-system' } }))) dedup.add(x);
    dedup.flush();
    expect(out.length).toBe(3);
  });

  it('over maxOpen, the oldest open alerts are emitted early, 1/64 of the bound at a time, and none is lost', () => {
    const a = analyser();
    const out: Alert[] = [];
    const dedup = new Deduplicator({ windowMs: 600_000, mode: 'hold', emit: (x) => out.push(x), maxOpen: 128 });
    // 300 distinct alerts (one namespace each), all inside one window.
    const alerts = Array.from({ length: 300 }, (_, i) =>
      a.analyse(
        exec({
          requestReceivedTimestamp: at(1),
          objectRef: { ...execRef, namespace: `ns-${i}` },
          requestURI: `/api/v1/namespaces/ns-${i}/pods/web-0/exec?command=sh`,
        }),
      ),
    ).flat();
    expect(alerts).toHaveLength(300);
    for (const [i, x] of alerts.entries()) {
      dedup.add(x);
      // Never more than maxOpen held; the 129th alert makes the oldest 2 (128 / 64) go.
      expect(dedup.openCount).toBeLessThanOrEqual(128);
      if (i === 128) expect(out.map((o) => o.namespace)).toEqual(['ns-0', 'ns-1']);
    }
    dedup.flush();
    expect(out.map((o) => o.namespace).sort()).toEqual(alerts.map((o) => o.namespace).sort());
  });

  it('pass mode hands every occurrence on at once, with the shared fingerprint', () => {
    const a = analyser();
    const out: Alert[] = [];
    const dedup = new Deduplicator({ windowMs: 600_000, mode: 'pass', emit: (x) => out.push(x) });
    for (let i = 0; i < 2; i++) for (const x of a.analyse(exec())) dedup.add(x);
    expect(out.length).toBe(2);
    expect(out[0]!.fingerprint).toBe(out[1]!.fingerprint);
  });
});

describe('audit settings', () => {
  it('validates with key paths', () => {
    expect(() => parseAuditSettings({ dedupWindow: 'soon', webhookAdmins: 'x', nope: 1 }, 'bulwark.yaml')).toThrow(ConfigError);
    try {
      parseAuditSettings({ dedupWindow: 'soon', webhookAdmins: 'x', nope: 1 }, 'bulwark.yaml');
    } catch (e) {
      expect((e as Error).message).toContain('bulwark.yaml: audit.dedupWindow: must be a duration');
      expect((e as Error).message).toContain('audit.webhookAdmins: must be a list of strings');
      expect((e as Error).message).toContain('audit.nope: unknown key');
    }
  });

  it('durations', () => {
    expect(parseAuditSettings({ dedupWindow: '90s' }).dedupWindowMs).toBe(90_000);
    expect(parseAuditSettings({ dedupWindow: 120 }).dedupWindowMs).toBe(120_000);
    expect(parseAuditSettings({ dedupWindow: '1h' }).dedupWindowMs).toBe(3_600_000);
  });
});

describe('request tracking: the auditID index never changes what is analysed', () => {
  // An oracle with the documented semantics and no index: every event's request key is looked up.
  class Oracle {
    readonly tracked = new Map<string, 'started' | 'alerted'>();
    constructor(private readonly max: number) {}
    analyse(ev: AuditEvent, raises: boolean, journal?: Array<[string, 'started' | 'alerted' | undefined]>): boolean {
      if (ev.stage === 'RequestReceived') return false;
      const id = requestKey(ev);
      const prior = this.tracked.get(id);
      if (ev.stage === 'ResponseStarted') {
        if (prior !== undefined) return false;
        journal?.push([id, prior]);
        this.track(id, 'started');
      } else if (prior !== undefined) {
        journal?.push([id, prior]);
        this.tracked.delete(id);
        return false;
      }
      if (raises && ev.stage !== 'ResponseStarted') {
        journal?.push([id, prior]);
        this.track(id, 'alerted');
      }
      return true;
    }
    rollback(journal: Array<[string, 'started' | 'alerted' | undefined]>): void {
      for (let i = journal.length - 1; i >= 0; i--) {
        const [id, prior] = journal[i]!;
        if (prior === undefined) this.tracked.delete(id);
        else this.tracked.set(id, prior);
      }
      journal.length = 0;
    }
    private track(id: string, state: 'started' | 'alerted'): void {
      this.tracked.set(id, state);
      // Over the bound, the oldest 1/64 of it (at least one) go at once.
      if (this.tracked.size > this.max) for (const k of [...this.tracked.keys()].slice(0, Math.max(1, Math.floor(this.max / 64)))) this.tracked.delete(k);
    }
  }

  it.each([
    ['a NUL', 'nul\u0000id'],
    ['300 characters (hashed)', 'x'.repeat(300)],
    ['digits and a colon, like the key prefix', '12:ab\u0000cd'],
  ])('an exec session whose auditID holds %s alerts once, at ResponseStarted', (_n, id) => {
    const a = new AuditAnalyser({ config: defaultConfig() });
    const session = {
      auditID: id,
      verb: 'create',
      requestURI: '/api/v1/namespaces/kube-system/pods/etcd-0/exec?command=sh',
      objectRef: { resource: 'pods', subresource: 'exec', namespace: 'kube-system', name: 'etcd-0', apiVersion: 'v1' },
    };
    expect(a.analyse(auditEvent({ ...session, stage: 'ResponseStarted', responseStatus: { metadata: {}, code: 101 } })).map((x) => x.type)).toEqual([
      'exec-into-pod',
    ]);
    expect(a.analyse(auditEvent({ ...session, stage: 'ResponseComplete' }))).toEqual([]);
    expect(a.pendingSessions()).toEqual([]);
  });

  it('the auditID filter, rebuilt after many requests were dropped, still finds every request tracked', () => {
    const a = new AuditAnalyser({ config: defaultConfig(), maxTrackedIDs: 5000 });
    const listing = (auditID: string) =>
      auditEvent({
        auditID,
        verb: 'list',
        requestURI: '/api/v1/secrets',
        objectRef: { resource: 'secrets', apiVersion: 'v1' },
        requestReceivedTimestamp: at(1),
      });
    // 11,000 alerting requests (each tracked as alerted): whenever 5,001 are tracked the oldest 78
    // (5,000 / 64) go, which rebuilds the filter; the newest 4,994 remain at the end (4,923 after the
    // last batch, at the 10,929th, and 71 since).
    const events = Array.from({ length: 11_000 }, (_, i) => listing(`5b1f0c2e-8d4a-4e6b-9c3d-${i.toString(16).padStart(12, '0')}`));
    for (const ev of events) expect(a.analyse(ev)).toHaveLength(1);
    // The newest still tracked are replays now; the evicted ones are new requests again.
    expect(events.slice(6100).filter((ev) => a.analyse(ev).length > 0)).toHaveLength(0);
    expect(a.analyse(events[0]!)).toHaveLength(1);
  });

  // The idFilter bit is the length and the last 12 characters: these 400 IDs share one bit.
  const colliding = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(6, '0')}-ffffffffffff`);
  it.each([
    ['shared and odd auditIDs', ['a', 'b', 'c', 'x'.repeat(200), 'nul\u0000id', ''], 8],
    ['400 auditIDs on one filter bit', [...colliding, 'a', 'b'], 500],
  ])('agrees with a key lookup per event over 20,000 seeded events (%s; sessions, replays, rollbacks, eviction)', (_name, ids, max) => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const a = new AuditAnalyser({ config: defaultConfig(), maxTrackedIDs: max });
    const oracle = new Oracle(max);
    const seen: AuditEvent[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Replay an earlier event now and then; otherwise a new one: an exec session (two stages) or a secrets listing (alerts).
      const ev =
        seen.length > 0 && rand(4) === 0
          ? seen[rand(seen.length)]!
          : auditEvent({
              auditID: ids[rand(ids.length)],
              stage: (['ResponseStarted', 'ResponseComplete', 'Panic', 'RequestReceived'] as const)[rand(4)],
              verb: rand(2) ? 'list' : 'get',
              requestURI: rand(2) ? '/api/v1/secrets' : '/api/v1/namespaces/default/pods/web-0',
              objectRef: rand(2) ? { resource: 'secrets', apiVersion: 'v1' } : { resource: 'pods', namespace: 'default', name: 'web-0', apiVersion: 'v1' },
              requestReceivedTimestamp: at(rand(5)),
            });
      if (seen.length < 500) seen.push(ev);
      const journal: Array<[string, 'started' | 'alerted' | undefined]> = [];
      const oracleJournal: Array<[string, 'started' | 'alerted' | undefined]> = [];
      const before = a.stats.analysed;
      const alerts = a.analyse(ev, journal);
      const analysed = a.stats.analysed > before;
      expect(oracle.analyse(ev, alerts.length > 0, oracleJournal), `event ${i}`).toBe(analysed);
      if (rand(10) === 0) {
        a.rollback(journal);
        oracle.rollback(oracleJournal);
      }
    }
    expect(a.pendingSessions().sort()).toEqual(
      [...oracle.tracked]
        .filter(([, s]) => s === 'started')
        .map(([k]) => k)
        .sort(),
    );
  });
});

describe('rule requirements (AuditRule.requires)', () => {
  afterEach(() => vi.restoreAllMocks());
  const rule = (id: string) => AUDIT_RULES.find((r) => r.id === id)!;

  it('a rule is not called for an event that lacks what it requires, and is called for one that has it', () => {
    const a = new AuditAnalyser({ config: defaultConfig() });
    const misuse = vi.spyOn(rule('serviceaccount-token-misuse'), 'match');
    const impersonation = vi.spyOn(rule('impersonation-of-system-identity'), 'match');
    const tampering = vi.spyOn(rule('bulwark-tampering'), 'match');
    const anonymous = vi.spyOn(rule('anonymous-request-allowed'), 'match');
    a.analyse(auditEvent()); // alice gets a pod: none of the four
    expect([misuse, impersonation, tampering, anonymous].map((m) => m.mock.calls.length)).toEqual([0, 0, 0, 0]);
    a.analyse(auditEvent({ user: { username: 'system:serviceaccount:prod:web', groups: [] } }));
    expect(misuse).toHaveBeenCalledTimes(1);
    a.analyse(auditEvent({ impersonatedUser: { username: 'system:kube-scheduler' } }));
    expect(impersonation).toHaveBeenCalledTimes(1);
    const secret = { resource: 'secrets', namespace: 'default', name: 'db', apiVersion: 'v1' };
    a.analyse(auditEvent({ objectRef: secret }));
    expect(tampering).toHaveBeenCalledTimes(0);
    a.analyse(auditEvent({ verb: 'delete', objectRef: secret }));
    expect(tampering).toHaveBeenCalledTimes(1);
    a.analyse(auditEvent({ verb: 'delete', objectRef: secret, responseStatus: { metadata: {}, code: 403 } }));
    expect(tampering).toHaveBeenCalledTimes(1);
    // Not a resource it lists (bulwark-tampering's `resources`).
    a.analyse(auditEvent({ verb: 'delete' }));
    expect(tampering).toHaveBeenCalledTimes(1);
    a.analyse(auditEvent({ user: { username: 'system:anonymous', groups: ['system:unauthenticated'] }, requestURI: '/api/v1/pods' }));
    expect(anonymous).toHaveBeenCalledTimes(1);
    // The authenticated user decides: an anonymous client impersonating alice is still anonymous.
    a.analyse(auditEvent({ user: { username: 'system:anonymous' }, impersonatedUser: { username: 'alice' } }));
    expect(anonymous).toHaveBeenCalledTimes(2);
  });
});

describe('quiet rules (AuditRule.quiet)', () => {
  it('a rule is quiet only where it cannot fire: match answers nothing for any such request', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const internals = analyser as unknown as { ctx: RuleContext; facts(ev: AuditEvent): AuditFacts };
    let quiet = 0;
    let fired = 0;
    for (const rule of AUDIT_RULES.filter((r) => r.quiet !== undefined)) {
      for (const user of [{ username: 'system:anonymous', groups: ['system:unauthenticated'] }, ALICE, {}])
        for (const impersonatedUser of [undefined, { username: 'system:anonymous' }, ALICE])
          for (const requestURI of [
            '/readyz',
            '/readyz/ping',
            '/healthz?verbose',
            '/livez',
            '/version',
            '/versionx',
            '/api',
            '/api/v1/secrets',
            '/',
            '',
            '/readyz/../api',
          ])
            for (const decision of ['allow', 'forbid', undefined])
              for (const code of [200, 401, 403]) {
                const ev = auditEvent({
                  user,
                  ...(impersonatedUser ? { impersonatedUser } : {}),
                  requestURI,
                  objectRef: undefined,
                  responseStatus: { metadata: {}, code } as AuditEvent['responseStatus'],
                  annotations: decision === undefined ? {} : { 'authorization.k8s.io/decision': decision },
                });
                const f = internals.facts(ev);
                const m = rule.match(f, internals.ctx);
                if (m !== undefined) fired++;
                if (!rule.quiet!(f, internals.ctx)) continue;
                quiet++;
                expect(m, `${rule.id}: ${JSON.stringify(ev).slice(0, 300)}`).toBeUndefined();
              }
    }
    expect(quiet).toBeGreaterThan(100);
    expect(fired).toBeGreaterThan(10);
  });
});

describe('rules judged on facts (AuditRule.judgedOnFacts)', () => {
  it('decide from the facts alone: with an event that cannot be read, match answers the same, or reads the event only to describe a match', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const internals = analyser as unknown as { ctx: RuleContext; facts(ev: AuditEvent): AuditFacts };
    const unread = new Error('read');
    const unreadable = new Proxy({} as AuditEvent, {
      get() {
        throw unread;
      },
      has() {
        throw unread;
      },
    });
    const rules = AUDIT_RULES.filter((r) => r.judgedOnFacts);
    expect(rules.length).toBeGreaterThan(4);
    const users = [ALICE, { username: 'system:serviceaccount:shop:web' }, { username: 'system:anonymous' }, { username: 'system:kube-controller-manager' }];
    const targets: [string, string, string, string, string][] = [
      ['secrets', '', '', '', ''],
      ['secrets', '', '', 'shop', 'db'],
      ['events', '', '', 'shop', 'e'],
      ['events', '', 'events.k8s.io', 'shop', 'e'],
      ['configmaps', '', '', 'kube-system', 'coredns'],
      ['validatingwebhookconfigurations', '', 'admissionregistration.k8s.io', '', 'bulwark-webhook'],
      ['mutatingwebhookconfigurations', '', 'admissionregistration.k8s.io', '', 'x'],
      ['clusterroles', '', 'rbac.authorization.k8s.io', '', 'system:controller:x'],
      ['clusterrolebindings', '', 'rbac.authorization.k8s.io', '', 'system:node'],
      ['selfsubjectaccessreviews', '', 'authorization.k8s.io', '', ''],
      ['pods', 'exec', '', 'shop', 'web-0'],
      ['pods', '', '', 'shop', 'web-0'],
    ];
    const observations = [
      undefined,
      { state: 'judging', known: false },
      { state: 'judging', known: true, agentKnown: true },
      { state: 'learning', known: false, agentKnown: false },
      { state: 'untracked', known: false },
    ] as const;
    let fired = 0;
    let checked = 0;
    for (const rule of rules)
      for (const user of users)
        for (const [resource, subresource, apiGroup, namespace, name] of targets)
          for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'])
            for (const code of [200, 403])
              for (const userAgent of ['kubectl/v1.30.2', 'kube-hunter/0.6.8'])
                for (const o of observations) {
                  const ev = auditEvent({
                    user,
                    verb,
                    userAgent,
                    objectRef: { resource, subresource, apiGroup, namespace, name },
                    responseStatus: { metadata: {}, code } as AuditEvent['responseStatus'],
                  });
                  const f = internals.facts(ev);
                  if (o !== undefined) {
                    f.serviceAccount = true;
                    f.humanClient = userAgent.startsWith('kubectl') ? 'kubectl' : undefined;
                    f.anomaly = {
                      account: f.username,
                      operation: `${verb} ${resource}`,
                      agent: f.humanClient,
                      learningEndsMs: 0,
                      learned: 3,
                      ...o,
                    } as AuditFacts['anomaly'];
                  }
                  const real = rule.match(f, internals.ctx);
                  let blind: ReturnType<typeof rule.match> | 'read';
                  try {
                    blind = rule.match({ ...f, event: unreadable }, internals.ctx);
                  } catch (err) {
                    if (err !== unread) throw err;
                    blind = 'read';
                  }
                  const where = `${rule.id}: ${verb} ${resource}/${subresource} by ${String(user.username)} (${JSON.stringify(o)})`;
                  if (blind === 'read') expect(real, where).toBeDefined();
                  else expect(blind, where).toEqual(real);
                  if (real !== undefined) fired++;
                  checked++;
                }
    expect(checked).toBeGreaterThan(10_000);
    expect(fired).toBeGreaterThan(100);
  });
});

describe('the rule index by resource', () => {
  it('a rule that lists its resources fires on no other resource or subresource, whatever the rest of the request', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    const ctx = (analyser as unknown as { ctx: RuleContext }).ctx;
    const others = [
      'pods',
      'nodes',
      'configmaps',
      'secrets',
      'services',
      'events',
      'serviceaccounts',
      'clusterroles',
      'clusterrolebindings',
      'namespaces',
      'leases',
      'deployments',
      'mutatingwebhookconfigurations',
      'validatingwebhookconfigurations',
      'validatingadmissionpolicies',
      '',
      '__proto__',
    ];
    let checked = 0;
    // As in RBAC: `pods` covers every subresource of pods, `pods/exec` that one alone.
    const covered = (listed: readonly string[], resource: string, subresource: string) =>
      listed.includes(resource) || (subresource !== '' && listed.includes(`${resource}/${subresource}`));
    // Where bulwark-tampering looks (Bulwark's namespace, its names) and where coredns-modified does.
    const places = [
      { namespace: 'kube-system', name: 'coredns' },
      { namespace: ctx.tampering.namespace, name: 'bulwark-webhook' },
    ];
    for (const rule of AUDIT_RULES.filter((r) => r.resources !== undefined)) {
      for (const resource of others) {
        for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection', 'get', 'list', 'watch']) {
          for (const subresource of ['', 'exec', 'attach', 'portforward', 'proxy', 'ephemeralcontainers', 'status', 'scale']) {
            if (covered(rule.resources!, resource, subresource)) continue;
            for (const [apiGroup, { namespace, name }] of ['', 'apps', 'rbac.authorization.k8s.io', 'admissionregistration.k8s.io', 'events.k8s.io'].flatMap(
              (g) => places.map((p) => [g, p] as const),
            )) {
              const event = auditEvent({
                verb,
                user: { username: 'mallory', groups: [] },
                objectRef: { resource, subresource, apiGroup, namespace, name },
              });
              const facts: AuditFacts = {
                event,
                username: 'mallory',
                impersonator: undefined,
                verb,
                resource,
                subresource,
                apiGroup,
                namespace,
                name,
                code: 200,
                success: true,
                dryRun: false,
                userAgent: 'kubectl/v1.30.0',
                requestURI: `/api/v1/nodes/worker-1/proxy/exec/kube-system/etcd-0/etcd?command=sh`,
              };
              expect(rule.match(facts, ctx), `${rule.id} on ${verb} ${resource}/${subresource} (${apiGroup})`).toBeUndefined();
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});
