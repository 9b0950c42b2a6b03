// The background scanner against the API-server stand-in: list+watch of the judged kinds, the
// PolicyReports it writes (and rewrites, and deletes), the Lease, and its failures.
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../../core/log.js';
import { compileConfig } from '../../policies/config.js';
import { defaultConfig } from '../../config/load.js';
import { loadKubeConfig } from '../../background/kube.js';
import { BackgroundScanner, backgroundSettingsOf, type BackgroundSettings } from '../../background/scanner.js';
import { namespaceDryRunWarnings } from '../../webhook/server.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';
import { newAlert, type AlertSink } from '../../alerts/model.js';
import type { AlertStore } from '../../alerts/store.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import { AlertPipeline } from '../../alerts/pipeline.js';
import { BACKGROUND_ACTOR } from '../../background/alerts.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Obj = Record<string, any>;

let api: StandIn;
let dir: string;
let kubeconfig: string;
const scanners: BackgroundScanner[] = [];
const WAIT = { timeout: 10_000, interval: 25 };

const privileged = { containers: [{ name: 'app', image: 'nginx:1.25', securityContext: { privileged: true } }] };
const plain = { containers: [{ name: 'app', image: 'nginx:1.25' }] };
const deployment = (name: string, ns: string, spec: Obj): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec } },
});

function logSink(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  return {
    lines,
    stream: new Writable({
      write(chunk, _e, cb) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        cb();
      },
    }),
  };
}

async function startScanner(
  identity: string,
  over: Partial<BackgroundSettings> = {},
  config = defaultConfig(),
  alerts?: { sink: AlertSink; store: AlertStore },
  cluster?: () => string | undefined | null,
) {
  const kc = await loadKubeConfig({ kubeconfig });
  const log = logSink();
  const registry = new Registry();
  const settings: BackgroundSettings = { ...backgroundSettingsOf({ backgroundScan: { enabled: true }, reports: {} }), debounceMs: 50, ...over };
  const scanner = new BackgroundScanner({
    kc,
    compiled: () => compileConfig(config),
    settings,
    logger: createLogger({ level: 'debug' }, log.stream),
    registry,
    namespace: 'bulwark-system',
    identity,
    leaseDurationMs: 1000,
    renewIntervalMs: 200,
    initialBackoffMs: 100,
    alerts,
    ...(cluster ? { cluster } : {}),
  });
  scanners.push(scanner);
  await scanner.start();
  return { scanner, log, registry };
}

const report = (ns?: string): Obj | undefined =>
  api.objects.get(ns ? `wgpolicyk8s.io/v1alpha2|policyreports|${ns}|bulwark` : 'wgpolicyk8s.io/v1alpha2|clusterpolicyreports||bulwark');

beforeAll(async () => {
  api = await startApiServerStandIn();
  dir = await mkdtemp(join(tmpdir(), 'bulwark-bg-'));
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, api.kubeconfig());
  api.objects.set('/api/v1/namespaces/team-a', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', uid: 'ns-a' } });
  // Objects that exist before Bulwark starts.
  api.addObject(deployment('priv', 'team-a', privileged));
  api.addObject(deployment('clean', 'team-b', plain));
  api.addObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'loose',
      namespace: 'team-a',
      managedFields: [{ manager: 'kubectl' }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":1}', keep: 'me' },
    },
    spec: privileged,
    status: { phase: 'Running' },
  });
  api.addObject({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'everyone-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:authenticated' }],
  });
});

afterEach(async () => {
  await Promise.all(scanners.splice(0).map((s) => s.stop()));
  api.crds.installed = true;
  delete api.reportWrites.failWith;
});

afterAll(async () => {
  await api?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('background scanner', () => {
  it('reports what existed before it started, then follows fixes and deletes through the watch', async () => {
    const { scanner } = await startScanner('replica-1');
    await vi.waitFor(() => expect(report('team-a')).toBeDefined(), WAIT);
    expect(scanner.isLeader).toBe(true);
    const a = report('team-a')!;
    expect(a).toMatchObject({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'bulwark', namespace: 'team-a' } });
    const priv = a.results.find((r: Obj) => r.policy === 'privileged-container' && r.resources[0].name === 'priv');
    expect(priv).toMatchObject({
      result: 'fail',
      category: 'defender',
      source: 'bulwark',
      resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'priv' }],
    });
    expect(priv.message).toMatch(/^\[privileged-container\] /);
    expect(a.results.some((r: Obj) => r.resources[0].name === 'loose')).toBe(true);
    expect(a.summary.fail).toBe(a.results.filter((r: Obj) => r.result === 'fail').length);
    expect(report()!.results.some((r: Obj) => r.resources[0].name === 'everyone-admin')).toBe(true);
    // Only fail/warn by default: the clean namespace has a report without results.
    expect(report('team-b')?.results ?? []).toEqual([]);
    const lease = api.objects.get('coordination.k8s.io/v1|leases|bulwark-system|bulwark-background-scan')!;
    expect(lease.spec).toMatchObject({ holderIdentity: 'replica-1', leaseDurationSeconds: 1 });

    // A fix is seen through the watch and the report is rewritten.
    api.updateObject(deployment('priv', 'team-a', plain));
    await vi.waitFor(() => expect(report('team-a')!.results.some((r: Obj) => r.resources[0].name === 'priv')).toBe(false), WAIT);
    // A delete too.
    api.deleteObject('v1', 'Pod', 'team-a', 'loose');
    await vi.waitFor(() => expect(report('team-a')?.results ?? []).toEqual([]), WAIT);
    api.updateObject(deployment('priv', 'team-a', privileged));
    api.addObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'loose', namespace: 'team-a' }, spec: privileged });
    await vi.waitFor(() => expect(report('team-a')!.results.some((r: Obj) => r.resources[0].name === 'priv')).toBe(true), WAIT);
  });

  it('raises the alert admission would for what already runs, once across restarts; resolves it when fixed; keeps a dismissal', async () => {
    const store = await openAlertStore(`sqlite:${join(dir, 'background-alerts.db')}`);
    const pipeline = new AlertPipeline({ store, logger: createLogger({ level: 'silent' }), registry: new Registry() });
    const alerts = { sink: pipeline, store };
    const background = async () => (await store.list({ source: ['background'] }, undefined, 100)).items;
    const of = async (name: string) => (await background()).filter((a) => a.resource.name === name);
    try {
      const first = await startScanner('replica-1', {}, defaultConfig(), alerts);
      await vi.waitFor(async () => expect(await of('priv')).toHaveLength(1), WAIT);
      const [priv] = await of('priv');
      expect(priv).toMatchObject({
        type: 'privileged-container',
        source: 'background',
        severity: 'high',
        status: 'active',
        namespace: 'team-a',
        resource: { group: 'apps', version: 'v1', kind: 'Deployment', name: 'priv' },
        count: 1,
      });
      expect(priv!.message).toMatch(/^Found Deployment "priv" in namespace "team-a", which would be denied if created now: \[privileged-container\] /);
      expect(priv!.evidence).toMatchObject({ decision: 'deny', policies: expect.arrayContaining(['privileged-container']) });
      // A pod owned by nothing, the cluster-admin binding: each its own alert; the clean Deployment none.
      await vi.waitFor(async () => expect((await of('loose')).length + (await of('everyone-admin')).length).toBe(2), WAIT);
      expect(await of('clean')).toEqual([]);
      // Evaluating again raises nothing new, and merges nothing (count stays 1).
      const before = (await background()).length;
      await first.scanner.evaluate();
      await first.scanner.evaluate();
      expect((await background()).length).toBe(before);
      expect((await of('priv'))[0]!.count).toBe(1);
      // A restart (a new replica takes the Lease): the store says what is open, nothing is raised twice.
      await first.scanner.stop();
      const second = await startScanner('replica-2', {}, defaultConfig(), alerts);
      await vi.waitFor(() => expect(second.scanner.isLeader && second.scanner.evaluations > 0).toBe(true), WAIT);
      await second.scanner.evaluate();
      expect((await background()).length).toBe(before);
      // A person dismisses one: it stays dismissed while the object stays as it is.
      const loose = (await of('loose'))[0]!;
      await store.setStatus(loose.id, 'dismissed', 'sam', 'a lab pod');
      await second.scanner.evaluate();
      expect(await of('loose')).toHaveLength(1);
      expect((await of('loose'))[0]!.status).toBe('dismissed');
      // The fix is seen through the watch: the scan resolves its alert.
      api.updateObject(deployment('priv', 'team-a', plain));
      await vi.waitFor(async () => expect((await of('priv'))[0]!.status).toBe('resolved'), WAIT);
      expect((await of('priv'))[0]!.history.at(-1)).toMatchObject({ from: 'active', to: 'resolved', by: BACKGROUND_ACTOR });
      // Broken again: a new alert (the old one stays resolved).
      api.updateObject(deployment('priv', 'team-a', privileged));
      await vi.waitFor(async () => expect((await of('priv')).map((a) => a.status).sort()).toEqual(['active', 'resolved']), WAIT);
    } finally {
      await Promise.all(scanners.splice(0).map((s) => s.stop()));
      await pipeline.close();
      await store.close();
    }
  });

  it('names its cluster on its alerts, waits while the name is pending, and leaves the other clusters of a shared store alone', async () => {
    const store = await openAlertStore(`sqlite:${join(dir, 'background-clusters.db')}`);
    const pipeline = new AlertPipeline({ store, logger: createLogger({ level: 'silent' }), registry: new Registry() });
    // Another cluster's open alert for an object of the same name: not this scan's to resolve.
    const elsewhere = newAlert({
      type: 'privileged-container',
      title: 'Privileged container',
      severity: 'high',
      source: 'background',
      firstSeen: new Date().toISOString(),
      namespace: 'team-a',
      resource: { group: 'apps', version: 'v1', kind: 'Deployment', name: 'gone-here' },
      user: { username: '', groups: [] },
      message: 'x',
      tactics: [],
      remediation: '',
      cluster: 'prod-west',
    });
    await store.upsert(elsewhere, 600_000);
    let name: string | null = null;
    try {
      const { scanner } = await startScanner('replica-1', {}, defaultConfig(), { sink: pipeline, store }, () => name);
      await vi.waitFor(() => expect(scanner.isLeader && scanner.evaluations > 0).toBe(true), WAIT);
      await scanner.evaluate();
      expect((await store.summary({ source: ['background'] })).total).toBe(1); // pending: nothing raised yet
      name = 'prod-east';
      await vi.waitFor(async () => expect((await store.summary({ source: ['background'], cluster: ['prod-east'] })).total).toBeGreaterThanOrEqual(3), WAIT);
      await scanner.evaluate();
      const east = (await store.list({ source: ['background'], cluster: ['prod-east'] }, undefined, 100)).items;
      expect(east.every((a) => a.cluster === 'prod-east' && a.count === 1 && a.status === 'active')).toBe(true);
      expect((await store.get(elsewhere.id))!.status).toBe('active');
    } finally {
      await Promise.all(scanners.splice(0).map((s) => s.stop()));
      await pipeline.close();
      await store.close();
    }
  });

  it('a config reload (a new compiled config and schedule(), as bulwark serve does) is in the reports within the debounce', async () => {
    const kc = await loadKubeConfig({ kubeconfig });
    const live = { current: compileConfig(defaultConfig()) };
    const scanner = new BackgroundScanner({
      kc,
      compiled: () => live.current,
      settings: { ...backgroundSettingsOf({ backgroundScan: { enabled: true }, reports: {} }), debounceMs: 50 },
      logger: createLogger({ level: 'silent' }),
      namespace: 'bulwark-system',
      identity: 'replica-1',
      leaseDurationMs: 1000,
      renewIntervalMs: 200,
      initialBackoffMs: 100,
    });
    scanners.push(scanner);
    await scanner.start();
    const privileged = () => (report('team-a')?.results ?? []).some((r: Obj) => r.policy === 'privileged-container');
    await vi.waitFor(() => expect(privileged()).toBe(true), WAIT);
    live.current = compileConfig({ ...defaultConfig(), actions: { 'privileged-container': 'off' } });
    scanner.schedule();
    await vi.waitFor(() => expect(privileged()).toBe(false), WAIT);
  });

  it('does not rewrite a report whose content did not change', async () => {
    const { scanner } = await startScanner('replica-1');
    await vi.waitFor(() => expect(scanner.isLeader && scanner.evaluations > 0).toBe(true), WAIT);
    await scanner.evaluate();
    const puts = () => api.requests.filter((r) => r.method !== 'GET' && r.path.includes('/policyreports/')).length;
    const before = puts();
    await scanner.evaluate();
    await scanner.evaluate();
    expect(puts()).toBe(before);
  });

  it('strips managedFields, status and the last-applied annotation from its cache; the namespace dry run reads it', async () => {
    api.addObject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'annotated',
        namespace: 'strip',
        managedFields: [{ manager: 'kubectl' }],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":1}', keep: 'me' },
      },
      spec: plain,
      status: { phase: 'Running' },
    });
    const { scanner } = await startScanner('replica-1');
    await vi.waitFor(() => expect(scanner.evaluations).toBeGreaterThan(0), WAIT);
    const dry = scanner.podsDeniedUnderEnforce('team-a')!;
    expect(dry.total).toBe(1);
    expect(dry.pods[0]).toMatchObject({ name: 'loose', policies: expect.arrayContaining(['privileged-container']) });
    const cached = (scanner as any).informers.get('Pod').list('strip')[0];
    expect(cached.metadata.managedFields).toBeUndefined();
    expect(cached.status).toBeUndefined();
    expect(cached.metadata.annotations).toEqual({ keep: 'me' });
    // The admission warnings of labelling the namespace enforce.
    const warnings = namespaceDryRunWarnings(
      {
        uid: 'u',
        kind: { group: '', version: 'v1', kind: 'Namespace' },
        resource: { group: '', version: 'v1', resource: 'namespaces' },
        operation: 'UPDATE',
        userInfo: { username: 'admin' },
        name: 'team-a',
        object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'bulwark.io/mode': 'enforce' } } },
        oldObject: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: {} } },
      },
      (ns) => scanner.podsDeniedUnderEnforce(ns),
    );
    expect(warnings[0]).toBe('[bulwark] 1 existing pod in namespace "team-a" would be denied under bulwark.io/mode=enforce:');
    expect(warnings[1]).toMatch(/^loose: .*privileged-container/);
  });

  it('the console posture: the reports by namespace and policy, the failing resources, what enforce would deny; once per evaluation', async () => {
    const { scanner } = await startScanner('replica-1');
    await vi.waitFor(() => expect(scanner.evaluations).toBeGreaterThan(0), WAIT);
    const posture = scanner.posture()!;
    expect(Date.parse(posture.evaluatedAt)).toBeGreaterThan(Date.now() - 60_000);
    const teamA = posture.namespaces.find((n) => n.namespace === 'team-a')!;
    expect(teamA.fail).toBeGreaterThan(0);
    // The privileged Deployment and the loose pod; cluster-scoped, the cluster-admin binding.
    expect(teamA.wouldDeny).toBe(2);
    expect(
      posture.wouldDeny
        .filter((d) => d.namespace === 'team-a')
        .map((d) => `${d.kind}/${d.name}`)
        .sort(),
    ).toEqual(['Deployment/priv', 'Pod/loose']);
    expect(posture.policies.find((p) => p.policy === 'privileged-container')!.fail).toBeGreaterThan(0);
    expect(posture.results).toContainEqual(
      expect.objectContaining({ namespace: 'team-a', kind: 'Pod', name: 'loose', policy: 'privileged-container', result: 'fail' }),
    );
    expect(posture.wouldDeny).toContainEqual({ namespace: 'team-a', kind: 'Pod', name: 'loose', policies: expect.arrayContaining(['privileged-container']) });
    // The same evaluation answers from its cache; a new one judges again.
    expect(scanner.posture()).toBe(posture);
    await scanner.evaluate();
    expect(scanner.posture()).not.toBe(posture);
  });

  it('one writer: a second replica does not write while the first holds the Lease, and takes over when it stops', async () => {
    const first = await startScanner('replica-1');
    await vi.waitFor(() => expect(first.scanner.isLeader).toBe(true), WAIT);
    const second = await startScanner('replica-2');
    await vi.waitFor(() => expect(second.scanner.evaluations).toBeGreaterThan(0), WAIT);
    // Several renew periods later, still only replica-1.
    await new Promise((r) => setTimeout(r, 600));
    expect(second.scanner.isLeader).toBe(false);
    expect(api.objects.get('coordination.k8s.io/v1|leases|bulwark-system|bulwark-background-scan')!.spec.holderIdentity).toBe('replica-1');
    await first.scanner.stop();
    await vi.waitFor(() => expect(second.scanner.isLeader).toBe(true), WAIT);
    expect(api.objects.get('coordination.k8s.io/v1|leases|bulwark-system|bulwark-background-scan')!.spec.holderIdentity).toBe('replica-2');
  });

  it('the PolicyReport CRDs absent: one clear log line and a metric, retried', async () => {
    api.crds.installed = false;
    const { log, registry } = await startScanner('replica-1');
    await vi.waitFor(async () => {
      const m = await registry.getSingleMetricAsString('bulwark_background_errors_total');
      expect(m).toMatch(/reason="crd-missing"} [1-9]/);
    }, WAIT);
    const lines = log.lines.filter((l) => l.includes('CRDs are not installed'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).msg).toMatch(/writing PolicyReports failed \(crd-missing\).*admission is unaffected/);
    api.crds.installed = true;
    await vi.waitFor(() => expect(report('team-a')).toBeDefined(), WAIT);
  });

  it('a report too large for etcd (413) is a logged failure with its metric', async () => {
    api.reportWrites.failWith = 413;
    const { registry, log } = await startScanner('replica-1');
    await vi.waitFor(async () => expect(await registry.getSingleMetricAsString('bulwark_background_errors_total')).toMatch(/reason="too-large"} [1-9]/), WAIT);
    expect(log.lines.some((l) => l.includes('413'))).toBe(true);
  });

  it('bounds each report at reports.maxResultsPerReport, counting the overflow in the summary and a metric', async () => {
    for (let i = 0; i < 5; i++) api.addObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'many' }, spec: privileged });
    const { registry } = await startScanner('replica-1', { maxResultsPerReport: 3 });
    await vi.waitFor(() => expect(report('many')).toBeDefined(), WAIT);
    const r = report('many')!;
    expect(r.results).toHaveLength(3);
    expect(r.summary.fail).toBeGreaterThan(3);
    expect(Number(r.metadata.annotations['bulwark.io/results-dropped'])).toBe(r.summary.fail + r.summary.warn - 3);
    expect(await registry.getSingleMetricAsString('bulwark_background_results_dropped_total')).toMatch(/ [1-9]\d*$/m);
  });

  it('an API server it cannot reach: logged once per failure, no crash', async () => {
    const bad = join(dir, 'dead');
    await writeFile(bad, api.kubeconfig().replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'));
    const kc = await loadKubeConfig({ kubeconfig: bad });
    const log = logSink();
    const registry = new Registry();
    const scanner = new BackgroundScanner({
      kc,
      compiled: () => compileConfig(defaultConfig()),
      settings: { ...backgroundSettingsOf({ backgroundScan: {}, reports: {} }), debounceMs: 50 },
      logger: createLogger({}, log.stream),
      registry,
      namespace: 'bulwark-system',
      identity: 'x',
      renewIntervalMs: 100,
      initialBackoffMs: 50,
    });
    scanners.push(scanner);
    await scanner.start();
    await vi.waitFor(
      async () => expect(await registry.getSingleMetricAsString('bulwark_background_errors_total')).toMatch(/reason="unreachable"} [1-9]/),
      WAIT,
    );
    expect(scanner.isLeader).toBe(false);
    expect(log.lines.some((l) => /background scan: .*failed \(unreachable\)/.test(l))).toBe(true);
  });
});

describe('backgroundScan settings', () => {
  it('defaults: off, 1h, 5s, fail/warn only, 1000 results', () => {
    expect(backgroundSettingsOf({ backgroundScan: {}, reports: {} })).toEqual({
      enabled: false,
      resyncMs: 3_600_000,
      debounceMs: 5000,
      includePass: false,
      maxResultsPerReport: 1000,
    });
  });
  it('rejects a bad value saying where', () => {
    expect(() => backgroundSettingsOf({ backgroundScan: { resync: 'soon' } as any, reports: {} }, 'bulwark.yaml')).toThrow(/resync/);
    expect(() => backgroundSettingsOf({ backgroundScan: {}, reports: { maxResultsPerReport: 0 } }, 'bulwark.yaml')).toThrow(/maxResultsPerReport/);
  });
});
