// POST /validate against a real HTTPS server: every subject kind, every mode, exemptions,
// dry run, updates, ephemeral containers, skipped operations, warning limits and onError.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AnyCheck } from '../../policies/types.js';
import type { AdmissionResponse } from '../../webhook/admission.js';
import {
  badObjects,
  cleanSpec,
  client,
  CLUSTER_SCOPED,
  compiledWith,
  goodObjects,
  metricValue,
  POD_KINDS,
  privilegedSpec,
  review,
  sleep,
  startTestServer,
  waitFor,
  withPodSpec,
  type TestServer,
} from './support.js';

function expectDenied(res: AdmissionResponse, policies: string[]): void {
  expect(res.allowed).toBe(false);
  expect(res.status).toMatchObject({ code: 403, reason: 'Forbidden', status: 'Failure' });
  const lines = res.status!.message!.split('\n');
  for (const line of lines) expect(line).toMatch(/^\[[a-z0-9-]+\] \S/);
  expect([...new Set(lines.map((l) => l.slice(1, l.indexOf(']'))))].sort()).toEqual([...policies].sort());
}

describe('POST /validate, defaults (defender, enforce)', () => {
  let ts: TestServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    ts = await startTestServer();
    c = client(ts);
  });
  afterAll(() => ts.close());
  afterEach(async () => {
    // Alerts are recorded after the answer is written: the client can see the answer first.
    await ts.handle.web.flushAlerts();
    ts.sink.alerts.length = 0;
  });

  it.each(badObjects().map((b) => [b.kind, b] as const))('denies a bad %s and records one alert', async (_kind, bad) => {
    const doc = review(bad.object, CLUSTER_SCOPED.has(bad.kind) ? {} : { namespace: 'team-a' });
    if (bad.kind === 'EphemeralContainers') Object.assign(doc.request, { operation: 'UPDATE', subResource: 'ephemeralcontainers' });
    const res = await c.review(doc);
    expect(res.uid).toBe(doc.request.uid);
    expectDenied(res, [bad.policy]);
    expect(res.auditAnnotations).toEqual({ policies: bad.policy });
    await waitFor(() => ts.sink.alerts.length === 1, 2000, 'the alert');
    const alert = ts.sink.alerts[0]!;
    expect(alert).toMatchObject({
      type: bad.policy,
      source: 'admission',
      status: 'active',
      count: 1,
      namespace: CLUSTER_SCOPED.has(bad.kind) ? '' : 'team-a',
      resource: { kind: bad.kind },
      user: { username: 'alice', groups: ['system:authenticated'] },
    });
    expect(alert.evidence).toMatchObject({ uid: doc.request.uid, decision: 'deny', policies: [bad.policy] });
    expect(alert.message).toContain(`[${bad.policy}]`);
    expect(alert.tactics.length).toBeGreaterThan(0);
  });

  it.each(goodObjects().map((g) => [g.kind, g] as const))('allows a clean %s without warnings or alert', async (_kind, good) => {
    const doc = review(good.object);
    if (good.kind === 'EphemeralContainers') Object.assign(doc.request, { operation: 'UPDATE', subResource: 'ephemeralcontainers' });
    const res = await c.review(doc);
    expect(res).toEqual({ uid: doc.request.uid, allowed: true });
    await sleep(20);
    expect(ts.sink.alerts).toHaveLength(0);
  });

  it('lists every finding of a request, one line each', async () => {
    const obj = withPodSpec('Deployment', {
      hostPID: true,
      containers: [
        { name: 'a', image: 'nginx', securityContext: { privileged: true } },
        { name: 'b', image: 'nginx', securityContext: { privileged: true } },
      ],
    });
    const res = await c.review(review(obj));
    expectDenied(res, ['privileged-container', 'host-namespaces']);
    expect(res.status!.message).toContain('container "a"');
    expect(res.status!.message).toContain('container "b"');
    await waitFor(() => ts.sink.alerts.length === 1);
    const alert = ts.sink.alerts[0]!;
    expect((alert.evidence.findings as unknown[]).length).toBe(3);
    expect(alert.severity).toBe('high');
  });

  it('accepts a generateName object without a name, and a namespace only in the object', async () => {
    const obj = withPodSpec('Pod', privilegedSpec());
    (obj.metadata as Record<string, unknown>) = { generateName: 'web-', namespace: 'team-b' };
    const doc = review(obj);
    delete doc.request.name;
    delete doc.request.namespace;
    const res = await c.review(doc);
    expect(res.allowed).toBe(false);
    await waitFor(() => ts.sink.alerts.length === 1);
    expect(ts.sink.alerts[0]).toMatchObject({ namespace: 'team-b', resource: { name: 'web-' } });
  });

  it('writes one log line per decision, each admission line with the request uid', async () => {
    const before = ts.logs.lines.length;
    const doc = review(withPodSpec('Pod', privilegedSpec()));
    await c.review(doc);
    await c.review(review(withPodSpec('Pod', cleanSpec())));
    await waitFor(() => ts.sink.alerts.length === 1);
    const lines = ts.logs.lines.slice(before);
    const decisions = lines.filter((l) => l.decision !== undefined);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ uid: doc.request.uid, decision: 'denied', policies: ['privileged-container'], kind: 'Pod' });
  });

  it('counts decisions and requests in /metrics', async () => {
    await c.review(review(withPodSpec('Pod', privilegedSpec())));
    const res = await c.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(metricValue(res.text, 'bulwark_admission_decisions_total', { policy: 'privileged-container', action: 'enforce' })).toBeGreaterThan(0);
    expect(metricValue(res.text, 'bulwark_admission_requests_total', { operation: 'CREATE', kind: 'Pod', result: 'denied' })).toBeGreaterThan(0);
    expect(metricValue(res.text, 'bulwark_admission_requests_total', { result: 'allowed' })).toBeGreaterThan(0);
    expect(res.text).toContain('bulwark_admission_duration_seconds_bucket{le="0.0005",route="validate"}');
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });
});

describe('actions: defaultAction, per-policy actions, namespace labels, route, own namespace', () => {
  let ts: TestServer;
  let c: ReturnType<typeof client>;
  const twoFindings = () => withPodSpec('Pod', { hostNetwork: true, containers: [{ name: 'app', image: 'nginx', securityContext: { privileged: true } }] });

  afterEach(async () => {
    await ts.close();
  });

  it('warn: allowed with one [policy] warning per finding, and an alert', async () => {
    ts = await startTestServer({ config: { defaultAction: 'warn' } });
    c = client(ts);
    const res = await c.review(review(twoFindings()));
    expect(res.allowed).toBe(true);
    expect(res.status).toBeUndefined();
    expect(res.warnings).toHaveLength(2);
    for (const w of res.warnings!) expect(w).toMatch(/^\[(privileged-container|host-namespaces)\] /);
    expect(res.auditAnnotations).toEqual({ policies: 'privileged-container,host-namespaces' });
    await waitFor(() => ts.sink.alerts.length === 1);
    expect(ts.sink.alerts[0]!.evidence.decision).toBe('warn');
  });

  it('audit: allowed with the policy IDs in auditAnnotations, no warnings, an alert', async () => {
    ts = await startTestServer({ config: { defaultAction: 'audit' } });
    c = client(ts);
    const res = await c.review(review(twoFindings()));
    expect(res).toEqual({ uid: res.uid, allowed: true, auditAnnotations: { policies: 'privileged-container,host-namespaces' } });
    await waitFor(() => ts.sink.alerts.length === 1);
    expect(ts.sink.alerts[0]!.evidence.decision).toBe('audit');
  });

  it('per-policy actions: enforce and warn findings together deny and list both; audit ones stay out of the message', async () => {
    ts = await startTestServer({ config: { defaultAction: 'enforce', actions: { 'host-namespaces': 'warn', 'dangerous-capabilities': 'audit' } } });
    c = client(ts);
    const obj = withPodSpec('Pod', {
      hostNetwork: true,
      containers: [{ name: 'app', image: 'nginx', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }],
    });
    const res = await c.review(review(obj));
    expectDenied(res, ['privileged-container', 'host-namespaces']);
    expect(res.status!.message!.split('\n')[0]).toMatch(/^\[privileged-container\]/); // enforce first
    expect(res.auditAnnotations!.policies.split(',').sort()).toEqual(['dangerous-capabilities', 'host-namespaces', 'privileged-container']);
    await waitFor(() => ts.sink.alerts.length === 1);
    const actions = (ts.sink.alerts[0]!.evidence.findings as { policy: string; action: string }[]).map((f) => `${f.policy}:${f.action}`);
    expect(actions).toEqual(expect.arrayContaining(['privileged-container:enforce', 'host-namespaces:warn', 'dangerous-capabilities:audit']));
  });

  it('a policy set to warn alone only warns; "off" disables it', async () => {
    ts = await startTestServer({ config: { actions: { 'privileged-container': 'warn', 'host-namespaces': 'off' } } });
    c = client(ts);
    const res = await c.review(review(twoFindings()));
    expect(res.allowed).toBe(true);
    expect(res.warnings).toEqual([expect.stringMatching(/^\[privileged-container\] container "app"/)]);
  });

  it('the namespace label bulwark.io/mode overrides config for that namespace only', async () => {
    ts = await startTestServer({
      config: { defaultAction: 'audit', actions: { 'host-namespaces': 'audit' } },
      namespaceModeLabels: { strict: 'enforce', loud: 'warn', quiet: 'audit' },
    });
    c = client(ts);
    const inNs = (ns: string) => {
      const obj = twoFindings();
      (obj.metadata as Record<string, unknown>).namespace = ns;
      return review(obj, { namespace: ns });
    };
    expectDenied(await c.review(inNs('strict')), ['privileged-container', 'host-namespaces']);
    expect((await c.review(inNs('loud'))).warnings).toHaveLength(2);
    const quiet = await c.review(inNs('quiet'));
    expect(quiet.allowed).toBe(true);
    expect(quiet.warnings).toBeUndefined();
    const unlabelled = await c.review(inNs('other'));
    expect(unlabelled.allowed).toBe(true);
    expect(unlabelled.auditAnnotations).toBeDefined();
    // The lookup is live: a label change applies to the next request.
    ts.modes.set('other', 'enforce');
    expect((await c.review(inNs('other'))).allowed).toBe(false);
  });

  it('/validate/audit forces audit (the observing webhook never blocks)', async () => {
    ts = await startTestServer({ namespaceModeLabels: { 'kube-system': 'enforce' } });
    c = client(ts);
    const obj = twoFindings();
    (obj.metadata as Record<string, unknown>).namespace = 'kube-system';
    const res = await c.review(review(obj, { namespace: 'kube-system' }), '/validate/audit');
    expect(res.allowed).toBe(true);
    expect(res.auditAnnotations!.policies).toContain('privileged-container');
    const bad = await client(ts).post('/validate/bogus', review(obj));
    expect(bad.status).toBe(404);
  });

  it("never blocks the server's own namespace: findings there are at most audited", async () => {
    ts = await startTestServer({ serverNamespace: 'bulwark', namespaceModeLabels: { bulwark: 'enforce' } });
    c = client(ts);
    const obj = twoFindings();
    (obj.metadata as Record<string, unknown>).namespace = 'bulwark';
    const res = await c.review(review(obj, { namespace: 'bulwark' }));
    expect(res.allowed).toBe(true);
    expect(res.warnings).toBeUndefined();
    expect(res.auditAnnotations!.policies).toContain('privileged-container');
    await waitFor(() => ts.sink.alerts.length === 1);
    expect(ts.sink.alerts[0]!.evidence.decision).toBe('audit');
  });
});

describe('exemptions, dry run', () => {
  let ts: TestServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    ts = await startTestServer({
      config: {
        exemptions: { namespaces: ['trusted'], usernames: ['ci-bot'], groups: ['platform-admins'], images: ['registry.k8s.io/*', 'ghcr.io/acme/agent:?.*'] },
      },
    });
    c = client(ts);
  });
  afterAll(() => ts.close());
  afterEach(async () => {
    // Alerts are recorded after the answer is written: the client can see the answer first.
    await ts.handle.web.flushAlerts();
    ts.sink.alerts.length = 0;
  });

  it.each([
    ['namespace', { namespace: 'trusted' }],
    ['username', { userInfo: { username: 'ci-bot', groups: [] } }],
    ['group', { userInfo: { username: 'carol', groups: ['system:authenticated', 'platform-admins'] } }],
  ])('an exempt %s is allowed unchecked, counted, not alerted', async (_what, overrides) => {
    const res = await c.review(review(withPodSpec('Pod', privilegedSpec()), overrides));
    expect(res).toEqual({ uid: res.uid, allowed: true });
    await sleep(30);
    expect(ts.sink.alerts).toHaveLength(0);
    const m = await c.get('/metrics');
    expect(metricValue(m.text, 'bulwark_admission_requests_total', { result: 'exempt' })).toBeGreaterThan(0);
  });

  it("an exempt image removes that container's findings only", async () => {
    const allowed = await c.review(review(withPodSpec('Pod', privilegedSpec('registry.k8s.io/kube-proxy:v1.31.0'))));
    expect(allowed.allowed).toBe(true);
    const mixed = withPodSpec('Deployment', {
      containers: [
        { name: 'proxy', image: 'registry.k8s.io/kube-proxy:v1.31.0', securityContext: { privileged: true } },
        { name: 'agent', image: 'ghcr.io/acme/agent:1.2', securityContext: { privileged: true } },
        { name: 'app', image: 'docker.io/acme/app:1', securityContext: { privileged: true } },
      ],
    });
    const res = await c.review(review(mixed));
    expectDenied(res, ['privileged-container']);
    expect(res.status!.message).toContain('"app"');
    expect(res.status!.message).not.toContain('"proxy"');
    expect(res.status!.message).not.toContain('"agent"');
  });

  it('dry run: the same answer, no alert recorded', async () => {
    const obj = withPodSpec('Pod', privilegedSpec());
    const dry = review(obj, { dryRun: true });
    const wet = review(obj);
    const dryRes = await c.review(dry);
    const wetRes = await c.review(wet);
    expect({ ...dryRes, uid: '' }).toEqual({ ...wetRes, uid: '' });
    await waitFor(() => ts.sink.alerts.length === 1);
    await sleep(50);
    expect(ts.sink.alerts).toHaveLength(1);
    expect(ts.sink.alerts[0]!.evidence.uid).toBe(wet.request.uid);
    // The decision itself is still logged, marked as a dry run.
    expect(ts.logs.lines.find((l) => l.uid === dry.request.uid)).toMatchObject({ dryRun: true, decision: 'denied' });
  });
});

describe('updates, ephemeral containers, skipped requests', () => {
  let ts: TestServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    ts = await startTestServer();
    c = client(ts);
  });
  afterAll(() => ts.close());

  const badPod = (extra: Record<string, unknown> = {}) =>
    withPodSpec('Pod', { nodeName: 'n1', containers: [{ name: 'app', image: 'nginx:1.27', securityContext: { privileged: true } }] }, extra);
  const update = (object: unknown, oldObject: unknown, extra: Record<string, unknown> = {}) =>
    review(object as never, { operation: 'UPDATE', oldObject: oldObject as never, ...extra });

  it('allows relabelling, annotating and finalizing an existing bad pod (not significant)', async () => {
    const old = badPod();
    expect((await c.review(update(badPod({ labels: { tier: 'web' } }), old))).allowed).toBe(true);
    expect((await c.review(update(badPod({ annotations: { note: 'x' }, finalizers: [] }), old))).allowed).toBe(true);
    const deleting = badPod({ deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: [] });
    expect((await c.review(update(deleting, badPod({ deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: ['x'] })))).allowed).toBe(true);
  });

  it('re-evaluates a significant pod update: image changed, container added, seccomp annotation changed', async () => {
    const old = badPod();
    const newImage = badPod();
    ((newImage.spec as Record<string, unknown[]>).containers[0] as Record<string, unknown>).image = 'nginx:1.28';
    expect((await c.review(update(newImage, old))).allowed).toBe(false);

    const added = badPod();
    (added.spec as Record<string, unknown[]>).containers.push({ name: 'side', image: 'busybox' });
    expect((await c.review(update(added, old))).allowed).toBe(false);

    const seccomp = badPod({ annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } });
    expect((await c.review(update(seccomp, old))).allowed).toBe(false);
  });

  it('an update without oldObject is evaluated', async () => {
    expect((await c.review(update(badPod(), null))).allowed).toBe(false);
  });

  it('workload updates are evaluated when the pod template changes, not for replicas or labels', async () => {
    const old = withPodSpec('Deployment', privilegedSpec());
    const scaled = withPodSpec('Deployment', privilegedSpec(), { labels: { a: 'b' } });
    (scaled.spec as Record<string, unknown>).replicas = 5;
    expect((await c.review(update(scaled, old))).allowed).toBe(true);
    const restarted = withPodSpec('Deployment', privilegedSpec());
    (restarted.spec as Record<string, Record<string, unknown>>).template!.metadata = { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } };
    expect((await c.review(update(restarted, old))).allowed).toBe(false);
    const fixed = withPodSpec('Deployment', cleanSpec());
    expect((await c.review(update(fixed, old))).allowed).toBe(true);
  });

  it('RBAC updates are evaluated when rules or subjects change, not for labels', async () => {
    const bad = badObjects().find((b) => b.kind === 'ClusterRole')!.object;
    const relabelled = { ...bad, metadata: { name: 'cr', labels: { x: 'y' } } };
    expect((await c.review(update(relabelled, bad))).allowed).toBe(true);
    const good = goodObjects().find((g) => g.kind === 'ClusterRole')!.object;
    expect((await c.review(update(bad, good))).allowed).toBe(false);
  });

  it('ephemeral containers, 1.22+ shape (a Pod on the ephemeralcontainers subresource)', async () => {
    const old = withPodSpec('Pod', cleanSpec());
    const withDebug = withPodSpec('Pod', { ...cleanSpec(), ephemeralContainers: [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }] });
    const res = await c.review(update(withDebug, old, { subResource: 'ephemeralcontainers' }));
    expectDenied(res, ['privileged-container']);
    expect(res.status!.message).toContain('ephemeral container "debug"');
    const safeDebug = withPodSpec('Pod', { ...cleanSpec(), ephemeralContainers: [{ name: 'debug', image: 'busybox' }] });
    expect((await c.review(update(safeDebug, old, { subResource: 'ephemeralcontainers' }))).allowed).toBe(true);
    // Already there and unchanged: not significant.
    expect((await c.review(update(withDebug, withDebug, { subResource: 'ephemeralcontainers' }))).allowed).toBe(true);
  });

  it('ephemeral containers, ≤1.21 shape (kind EphemeralContainers)', async () => {
    const bad = badObjects().find((b) => b.kind === 'EphemeralContainers')!.object;
    const old = { ...bad, ephemeralContainers: [] };
    const res = await c.review(update(bad, old, { subResource: 'ephemeralcontainers', kind: { group: '', version: 'v1', kind: 'EphemeralContainers' } }));
    expectDenied(res, ['privileged-container']);
    expect((await c.review(update(bad, bad, { subResource: 'ephemeralcontainers' }))).allowed).toBe(true);
  });

  it.each([
    ['DELETE', { operation: 'DELETE', object: null, oldObject: null }],
    ['CONNECT', { operation: 'CONNECT', subResource: 'exec' }],
    ['status subresource', { operation: 'UPDATE', subResource: 'status' }],
    ['binding subresource', { operation: 'CREATE', subResource: 'binding' }],
  ])('%s is allowed untouched', async (_what, overrides) => {
    const doc = review(badPod(), overrides as never);
    if ((overrides as { operation: string }).operation === 'DELETE') doc.request.oldObject = badPod();
    expect(await c.review(doc)).toEqual({ uid: doc.request.uid, allowed: true });
  });

  it('scale of a workload and unknown kinds are allowed untouched', async () => {
    const scale = review(
      { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'team-a' }, spec: { replicas: 3 } },
      { operation: 'UPDATE', subResource: 'scale', kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
    );
    expect((await c.review(scale)).allowed).toBe(true);
    const cm = review({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'team-a' }, data: {} });
    expect(await c.review(cm)).toEqual({ uid: cm.request.uid, allowed: true });
    const m = await c.get('/metrics');
    expect(metricValue(m.text, 'bulwark_admission_requests_total', { result: 'skipped' })).toBeGreaterThan(0);
  });
});

describe('warnings stay within what the API server keeps', () => {
  let ts: TestServer;
  afterEach(() => ts.close());

  it('many findings: each warning ≤ 256 bytes, all ≤ 4 KiB, the rest summarised', async () => {
    ts = await startTestServer({ config: { defaultAction: 'warn' } });
    const containers = Array.from({ length: 80 }, (_, i) => ({
      name: `container-with-a-rather-long-name-number-${i}-${'x'.repeat(i % 5 === 0 ? 300 : 10)}`,
      image: 'nginx',
      securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN', 'NET_ADMIN'] } },
    }));
    const res = await client(ts).review(review(withPodSpec('Pod', { hostPID: true, hostNetwork: true, containers })));
    expect(res.allowed).toBe(true);
    const warnings = res.warnings!;
    let total = 0;
    for (const w of warnings) {
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(256);
      expect(w).toMatch(/^\[[a-z0-9-]+\] /);
      total += Buffer.byteLength(w);
    }
    expect(total).toBeLessThanOrEqual(4096);
    const last = warnings[warnings.length - 1]!;
    expect(last).toMatch(/^\[bulwark\] \d+ more findings: .*\(see the alert\)$/);
    const more = Number(/(\d+) more/.exec(last)![1]);
    await waitFor(() => ts.sink.alerts.length === 1);
    const evidence = ts.sink.alerts[0]!.evidence;
    const findings = evidence.findings as unknown[];
    // Beyond MAX_FINDINGS_PER_CHECK per policy, findings are counted, not listed: every one is still accounted for.
    const omitted = Object.values((evidence.omittedFindings ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(omitted).toBeGreaterThan(0);
    expect(warnings.length - 1 + more).toBe(findings.length + omitted);
  });

  it('a denial with many findings stays bounded too', async () => {
    ts = await startTestServer();
    const containers = Array.from({ length: 400 }, (_, i) => ({ name: `c${i}-${'y'.repeat(200)}`, image: 'nginx', securityContext: { privileged: true } }));
    const res = await client(ts).review(review(withPodSpec('Pod', { containers })));
    expect(res.allowed).toBe(false);
    expect(Buffer.byteLength(res.status!.message!)).toBeLessThanOrEqual(16384 + 400);
    expect(res.status!.message!.split('\n').pop()).toMatch(/^\[bulwark\] \d+ more findings: privileged-container/);
  });
});

describe('onError: a check that throws', () => {
  let ts: TestServer;
  afterEach(() => ts.close());

  const throwing: AnyCheck = {
    id: 'throwing-check',
    title: 'Throws',
    severity: 'high',
    tactics: [],
    remediation: '',
    appliesTo: ['pod'],
    evaluate() {
      throw new Error('boom');
    },
  };

  it('allow (default): the other checks still decide; the error is logged and counted, no 500', async () => {
    const compiled = compiledWith();
    compiled.checks.push(throwing);
    ts = await startTestServer({ compiled });
    const c = client(ts);
    const clean = review(withPodSpec('Pod', cleanSpec()));
    expect(await c.review(clean)).toEqual({ uid: clean.request.uid, allowed: true });
    expectDenied(await c.review(review(withPodSpec('Pod', privilegedSpec()))), ['privileged-container']);
    const m = await c.get('/metrics');
    expect(metricValue(m.text, 'bulwark_admission_errors_total', { reason: 'check-error' })).toBe(2);
    expect(ts.logs.lines.find((l) => l.policy === 'throwing-check' && l.uid === clean.request.uid)).toBeDefined();
  });

  it('deny: the request is denied with a [policy] line for the failed check', async () => {
    const compiled = compiledWith({ onError: 'deny' });
    compiled.checks.push(throwing);
    ts = await startTestServer({ compiled });
    const res = await client(ts).review(review(withPodSpec('Pod', cleanSpec())));
    expectDenied(res, ['throwing-check']);
    expect(res.status!.message).toMatch(/^\[throwing-check\] the check failed/);
    // Still never in the server's own namespace.
    const own = withPodSpec('Pod', cleanSpec(), { namespace: 'bulwark-system' });
    expect((await client(ts).review(review(own, { namespace: 'bulwark-system' }))).allowed).toBe(true);
  });
});

describe('every pod-bearing kind reads its own template path', () => {
  it('covers the nine pod-bearing kinds', () => {
    expect(POD_KINDS.sort()).toEqual(['CronJob', 'DaemonSet', 'Deployment', 'Job', 'Pod', 'PodTemplate', 'ReplicaSet', 'ReplicationController', 'StatefulSet']);
  });
});

describe('admission alerts from an unauthenticated port are marked', () => {
  it('verified: false when no client certificate authenticates the API server', async () => {
    const ts = await startTestServer({ unverifiedAlerts: true });
    try {
      const res = await client(ts).review(review(withPodSpec('Pod', privilegedSpec()), { namespace: 'team-a' }));
      expect(res.allowed).toBe(false);
      await waitFor(() => ts.sink.alerts.length === 1, 2000, 'the alert');
      expect(ts.sink.alerts[0]!.verified).toBe(false);
    } finally {
      await ts.close();
    }
  });
});
