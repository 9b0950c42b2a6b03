// AuditAnalyser.skipLine: a line it counts without parsing is one the analysis would not have looked
// at. Checked by difference: one analyser skips what it may and analyses the rest, another parses
// and analyses every line; alerts, statistics, open sessions and the service-account baseline must
// come out the same — on the bench's realistic log, the fixture, and seeded lines that reach every
// rule, the object checks, tracked sessions, dry runs, impersonation and VAP annotations, under
// several configurations.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../audit/analyser.js';
import type { AuditEvent } from '../../audit/event.js';
import { IntelLists } from '../../audit/intel.js';
import type { Alert } from '../../alerts/model.js';
import { defaultConfig, type BulwarkConfig } from '../../config/load.js';
import { generate } from '../../bench/audit-log.js';
import { prng } from '../support/prng.js';
import { auditEvent, goLine, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const benchLog = tmp.path('bench.log');
await generate(benchLog, 40_000);
const benchLines = readFileSync(benchLog, 'utf8').split('\n').filter(Boolean);
const fixtureLines = readFileSync(new URL('../fixtures/audit/session.log', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);

/** Seeded lines in the API server's encoding that reach every part of the analysis. */
function seededLines(seed: number, n: number): string[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const users = [
    { username: 'alice@example.com', groups: ['developers', 'system:authenticated'] },
    { username: 'system:serviceaccount:shop:web', groups: ['system:serviceaccounts', 'system:authenticated'] },
    { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] },
    { username: 'system:kube-controller-manager', groups: ['system:authenticated'] },
    { username: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'] },
    { username: 'system:anonymous', groups: ['system:unauthenticated'] },
    { username: 'system:serviceaccount:bulwark-system:bulwark', groups: ['system:serviceaccounts'] },
  ];
  const agents = [
    'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350',
    'kube-controller-manager/v1.30.2',
    'curl/8.5.0',
    'kube-hunter/0.6.8',
    'Go-http-client/2.0',
    '',
  ];
  const targets: [string, string, string, string][] = [
    // resource, subresource, apiGroup, namespace
    ['pods', '', '', 'shop'],
    ['pods', 'exec', '', 'kube-system'],
    ['pods', 'attach', '', 'shop'],
    ['pods', 'portforward', '', 'shop'],
    ['pods', 'ephemeralcontainers', '', 'shop'],
    ['pods', 'status', '', 'shop'],
    ['nodes', 'proxy', '', ''],
    ['nodes', 'status', '', ''],
    ['secrets', '', '', 'kube-system'],
    ['secrets', '', '', ''],
    ['configmaps', '', '', 'bulwark-system'],
    ['configmaps', '', '', 'kube-system'],
    ['deployments', 'scale', 'apps', 'bulwark-system'],
    ['deployments', '', 'apps', 'shop'],
    ['validatingwebhookconfigurations', '', 'admissionregistration.k8s.io', ''],
    ['mutatingwebhookconfigurations', '', 'admissionregistration.k8s.io', ''],
    ['clusterroles', '', 'rbac.authorization.k8s.io', ''],
    ['clusterrolebindings', '', 'rbac.authorization.k8s.io', ''],
    ['serviceaccounts', '', '', 'kube-system'],
    ['services', '', '', 'shop'],
    ['events', '', '', 'shop'],
    ['events', '', 'events.k8s.io', 'shop'],
    ['namespaces', '', '', ''],
    ['leases', '', 'coordination.k8s.io', 'kube-node-lease'],
    ['selfsubjectaccessreviews', '', 'authorization.k8s.io', ''],
    ['', '', '', ''],
  ];
  const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
  const names = ['web-0', 'bulwark', 'bulwark-webhook', 'coredns', 'cluster-admin', 'system:controller:x', 'default', ''];
  const bodies: Record<string, unknown>[] = [
    {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'web-0' },
      spec: { containers: [{ name: 'c', image: 'nginx', securityContext: { privileged: true } }] },
    },
    {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'ok' },
      spec: { containers: [{ name: 'c', image: 'xmrig/xmrig' }], ephemeralContainers: [{ name: 'debug', image: 'busybox' }] },
    },
    { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'app' }, data: { DB_PASSWORD: 'hunter2', Corefile: '.:53 { forward . 8.8.8.8 }' } },
    { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'shop', labels: { 'bulwark.io/mode': 'audit', 'bulwark.io/webhook': 'ignore' } } },
    { kind: 'Service', apiVersion: 'v1', metadata: { name: 'redis' }, spec: { type: 'NodePort', ports: [{ port: 6379 }] } },
    {
      kind: 'ClusterRoleBinding',
      apiVersion: 'rbac.authorization.k8s.io/v1',
      metadata: { name: 'x' },
      roleRef: { kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: 'mallory' }],
    },
  ];
  const out: string[] = [];
  const open: string[] = [];
  for (let i = 0; i < n; i++) {
    const [resource, subresource, apiGroup, namespace] = pick(targets);
    const verb = pick(verbs);
    const name = pick(names);
    const path =
      resource === ''
        ? pick(['/readyz', '/version', '/api', '/metrics', '/openapi/v2'])
        : `/api/v1/${namespace ? `namespaces/${namespace}/` : ''}${resource}/${name}${subresource ? `/${subresource}` : ''}`;
    const query = pick(['', '', '', '?command=sh&container=c', '?dryRun=All', '?ports=8080', '?limit=500']);
    const at = new Date(Date.UTC(2024, 5, 1) + i * 997).toISOString().replace('Z', '000Z');
    const ev: Record<string, unknown> = {
      ...auditEvent({
        auditID: `a-${seed}-${i}`,
        level: pick(['Metadata', 'Request', 'RequestResponse']),
        stage: pick(['ResponseComplete', 'ResponseComplete', 'ResponseComplete', 'ResponseStarted', 'RequestReceived', 'Panic']),
        requestURI: path + query,
        verb,
        user: pick(users),
        sourceIPs: [pick(['10.0.0.5', '203.0.113.7', '192.0.2.1'])],
        userAgent: pick(agents),
        responseStatus: { metadata: {}, code: pick([200, 200, 201, 101, 304, 403, 404]) } as AuditEvent['responseStatus'],
        requestReceivedTimestamp: at,
        stageTimestamp: at,
      }),
      objectRef:
        resource === ''
          ? undefined
          : { resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}), apiGroup, apiVersion: 'v1', ...(subresource ? { subresource } : {}) },
    };
    if (ev.stage === 'RequestReceived') delete ev.responseStatus;
    if (rand() < 0.1) ev.impersonatedUser = pick(users);
    if (rand() < 0.35 && ['create', 'update', 'patch'].includes(verb)) ev.requestObject = pick(bodies);
    if (rand() < 0.1) ev.responseObject = pick(bodies);
    if (rand() < 0.05)
      ev.annotations = {
        'validation.policy.admission.k8s.io/validation_failure': JSON.stringify([
          {
            message: 'privileged',
            policy: 'bulwark-privileged-container',
            binding: 'bulwark-privileged-container',
            expressionIndex: 0,
            validationActions: ['Audit'],
          },
        ]),
      };
    if (rand() < 0.05) ev.user = {};
    out.push(goLine(ev));
    // Sessions: a ResponseStarted is later completed (or replayed) with the same request.
    if (ev.stage === 'ResponseStarted') open.push(goLine({ ...ev, stage: 'ResponseComplete' }));
    if (open.length > 0 && rand() < 0.3) out.push(open.splice(Math.floor(rand() * open.length), 1)[0]!);
    if (rand() < 0.02 && out.length > 1) out.push(out[Math.floor(rand() * out.length)]!);
  }
  return [...out, ...open];
}

/** An alert without what is random in it (the id). */
function comparable(a: Alert): Record<string, unknown> {
  const { id: _id, ...rest } = a;
  return rest;
}

interface Outcome {
  alerts: Record<string, unknown>[];
  stats: unknown;
  pending: string[];
  baseline: unknown;
  skipped: number;
}

function run(lines: readonly string[], config: BulwarkConfig, skip: boolean, intel?: () => IntelLists): Outcome {
  const analyser = new AuditAnalyser({ config, ...(intel ? { intel: intel() } : {}) });
  const alerts: Record<string, unknown>[] = [];
  let skipped = 0;
  for (const line of lines) {
    if (skip && analyser.skipLine(line)) {
      skipped++;
      continue;
    }
    for (const a of analyser.analyse(JSON.parse(line) as AuditEvent)) alerts.push(comparable(a));
  }
  const baseline = analyser.anomaly;
  return {
    alerts,
    stats: { ...analyser.stats },
    pending: analyser.pendingSessions().sort(),
    // Every account's window and operations, what is queued for the store, and the counters.
    baseline: baseline && {
      accounts: baseline.summaries().map((s) => ({ ...s, operations: baseline.operationsOf(s.account) })),
      queued: baseline.takePending(),
      untracked: baseline.untracked,
    },
    skipped,
  };
}

function expectSame(lines: readonly string[], config: BulwarkConfig, intel?: () => IntelLists): Outcome {
  const skimmed = run(lines, config, true, intel);
  const parsed = run(lines, config, false, intel);
  expect(skimmed.stats).toEqual(parsed.stats);
  expect(skimmed.pending).toEqual(parsed.pending);
  expect(skimmed.baseline).toEqual(parsed.baseline);
  expect(skimmed.alerts.length).toBe(parsed.alerts.length);
  expect(skimmed.alerts).toEqual(parsed.alerts);
  return skimmed;
}

const received = (lines: readonly string[]) => lines.filter((l) => l.includes('"stage":"RequestReceived"')).length;

describe('AuditAnalyser.skipLine', () => {
  const judging = (): BulwarkConfig => ({ ...defaultConfig(), anomaly: { learningPeriod: '5m' } });

  it('skips most of a realistic log, and what comes out is what parsing every line gives', () => {
    const out = expectSame(benchLines, judging());
    expect(out.alerts.length).toBeGreaterThan(50);
    // Not only RequestReceived: most completed requests of the control plane and the nodes.
    expect(out.skipped - received(benchLines)).toBeGreaterThan(benchLines.length / 2);
  });

  it('agrees on the fixture and on seeded lines that reach every rule, the object checks, sessions, dry runs, impersonation and VAP annotations', () => {
    const lines = [...fixtureLines, ...seededLines(7, 6000)];
    const out = expectSame(lines, judging());
    expect(new Set(out.alerts.map((a) => a.type)).size).toBeGreaterThan(12);
    expect(out.skipped - received(lines)).toBeGreaterThan(300);
  });

  it('agrees whatever the configuration: rules disabled, the service-account rules off, other control-plane identities, threat-intel lists', () => {
    const lines = [...seededLines(11, 4000), ...benchLines.slice(0, 8000)];
    const base = judging();
    expectSame(lines, { ...base, audit: { disabled: ['serviceaccount-rare-operation', 'serviceaccount-token-misuse', 'exec-into-pod'] } });
    expectSame(lines, { ...base, audit: { controlPlaneIdentities: ['system:node:*'] } });
    expectSame(lines, { ...base, defaultAction: 'audit' });
    const intelFile = tmp.path('intel.txt');
    writeFileSync(intelFile, '203.0.113.0/24\n');
    // With a list loaded, every request is checked against it: only RequestReceived is skipped.
    const out = expectSame(lines, base, () => new IntelLists({ files: [intelFile], onProblem: () => undefined }));
    expect(out.skipped).toBe(received(lines));
    expect(out.alerts.some((a) => a.type === 'threat-intel-source')).toBe(true);
  });
});
