// The background scan at scale (#11): 10,000 pods and 2,000 workloads (Deployments with their
// ReplicaSets), fed as the API server's list responses (JSON text, parsed as the informers' list
// function parses it), stripped for the cache, then one full evaluation: judgeAll (owners folded)
// and the PolicyReports. Goals: the evaluation under 2 s of CPU, the caches plus the report state
// under 300 MB RSS.
//
//   npm run bench:background
//   BENCH_PODS=20000 BENCH_WORKLOADS=4000 npm run bench:background
import os from 'node:os';
import { defaultConfig } from '../config/load.js';
import { compileConfig } from '../policies/config.js';
import type { K8sObject } from '../policies/types.js';
import { judgeAll } from '../background/judge.js';
import { buildPolicyReports } from '../background/policyreport.js';
import { stripForCache } from '../background/scanner.js';

const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 2_000);
const NAMESPACES = 50;
const CPU_GOAL_S = 2;
const RSS_GOAL_MIB = 300;

type Obj = Record<string, any>;

/** A realistic pod spec: two containers, probes, env, mounts; every seventh privileged, every eleventh with a hostPath. */
function podSpec(i: number): Obj {
  const container = (name: string) => ({
    name,
    image: `registry.example.com/team-${i % 13}/${name}:1.${i % 40}.0`,
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    env: Array.from({ length: 8 }, (_, k) => ({ name: `VAR_${k}`, value: `value-${i}-${k}` })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
    volumeMounts: [{ name: 'data', mountPath: '/data' }],
    securityContext:
      i % 7 === 0
        ? { privileged: true }
        : { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
  });
  return {
    serviceAccountName: 'app',
    containers: [container('app'), container('sidecar')],
    volumes: [i % 11 === 0 ? { name: 'data', hostPath: { path: '/var/lib/docker' } } : { name: 'data', emptyDir: {} }],
  };
}

const meta = (name: string, namespace: string, uid: string, extra: Obj = {}): Obj => ({
  name,
  namespace,
  uid,
  resourceVersion: '12345',
  creationTimestamp: '2026-11-01T10:00:00Z',
  labels: { app: name.replace(/-[a-z0-9]+-[a-z0-9]+$/, '') },
  // What a live list carries and the cache drops.
  managedFields: [
    {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2026-11-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': {} },
    },
  ],
  annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec: { replicas: 3 } }) },
  ...extra,
});

/** The list responses: DeploymentList, ReplicaSetList and PodList, as JSON text. */
function listResponses(): { deployments: string; replicaSets: string; pods: string } {
  const deployments: Obj[] = [];
  const replicaSets: Obj[] = [];
  const pods: Obj[] = [];
  for (let w = 0; w < WORKLOADS; w++) {
    const ns = `team-${w % NAMESPACES}`;
    const spec = podSpec(w);
    deployments.push({
      metadata: meta(`app-${w}`, ns, `d-${w}`),
      spec: { replicas: 5, selector: { matchLabels: { app: `app-${w}` } }, template: { metadata: { labels: { app: `app-${w}` } }, spec } },
      status: { replicas: 5, readyReplicas: 5 },
    });
    replicaSets.push({
      metadata: meta(`app-${w}-5d9c`, ns, `rs-${w}`, { ownerReferences: [{ kind: 'Deployment', name: `app-${w}`, uid: `d-${w}`, controller: true }] }),
      spec: { replicas: 5, selector: { matchLabels: { app: `app-${w}` } }, template: { metadata: { labels: { app: `app-${w}` } }, spec } },
      status: { replicas: 5 },
    });
  }
  for (let p = 0; p < PODS; p++) {
    const w = p % WORKLOADS;
    const ns = `team-${w % NAMESPACES}`;
    // Most pods come from a ReplicaSet; one in 50 is a bare pod of its own.
    const owned = p % 50 !== 0;
    pods.push({
      metadata: meta(
        `app-${w}-5d9c-${p.toString(36)}`,
        ns,
        `p-${p}`,
        owned ? { ownerReferences: [{ kind: 'ReplicaSet', name: `app-${w}-5d9c`, uid: `rs-${w}`, controller: true }] } : {},
      ),
      spec: { ...podSpec(owned ? w : p), nodeName: `node-${p % 40}` },
      status: { phase: 'Running', podIP: `10.1.${(p >> 8) & 255}.${p & 255}`, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  const list = (kind: string, apiVersion: string, items: Obj[]) =>
    JSON.stringify({ apiVersion, kind: `${kind}List`, metadata: { resourceVersion: '99' }, items });
  return { deployments: list('Deployment', 'apps/v1', deployments), replicaSets: list('ReplicaSet', 'apps/v1', replicaSets), pods: list('Pod', 'v1', pods) };
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

function main(): void {
  const compiled = compileConfig({ ...defaultConfig(), profiles: ['defender', 'pss-restricted'] });
  const responses = listResponses();
  const bytes = responses.deployments.length + responses.replicaSets.length + responses.pods.length;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;

  // The informers' caches: parse the list responses, set kind/apiVersion, strip.
  let cpu = process.cpuUsage();
  const cache: K8sObject[] = [];
  for (const [text, kind, apiVersion] of [
    [responses.deployments, 'Deployment', 'apps/v1'],
    [responses.replicaSets, 'ReplicaSet', 'apps/v1'],
    [responses.pods, 'Pod', 'v1'],
  ] as const) {
    for (const item of (JSON.parse(text) as { items: Obj[] }).items) cache.push(stripForCache({ ...item, kind, apiVersion }) as K8sObject);
  }
  const cacheCpu = cpuSeconds(process.cpuUsage(cpu));

  // One full evaluation, as the scanner runs it after a change or a resync.
  cpu = process.cpuUsage();
  const judged = judgeAll(cache, { compiled });
  const { reports, overflow } = buildPolicyReports(
    judged.filter((j) => j.outcome !== 'skipped' && j.outcome !== 'exempt'),
    { includePass: false, maxResultsPerReport: 1000 },
  );
  const evalCpu = cpuSeconds(process.cpuUsage(cpu));
  global.gc?.();
  const rss = process.memoryUsage().rss;
  const results = reports.reduce((n, r) => n + r.results.length, 0);

  const out = (line: string) => void process.stdout.write(line + '\n');
  out(`bulwark background bench — Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}`);
  out(`input: ${PODS} pods, ${WORKLOADS} Deployments + ${WORKLOADS} ReplicaSets in ${NAMESPACES} namespaces; list responses ${mib(bytes)} MiB of JSON`);
  out(`cache: parse + strip ${cacheCpu.toFixed(2)} s CPU; ${cache.length} objects`);
  out(
    `evaluation: ${evalCpu.toFixed(2)} s CPU — ${judged.length} objects reported after folding owned ones, ${reports.length} reports, ${results} results listed, ${overflow} over the cap`,
  );
  out(
    `RSS: ${mib(rssBefore)} MiB with the list texts, ${mib(rss)} MiB with caches and reports${global.gc ? '' : ' (run with --expose-gc for steadier figures)'}`,
  );
  out(
    `goals: evaluation under ${CPU_GOAL_S} s CPU — ${evalCpu < CPU_GOAL_S ? 'met' : 'NOT MET'}; under ${RSS_GOAL_MIB} MiB RSS — ${Number(mib(rss)) < RSS_GOAL_MIB ? 'met' : 'NOT MET'}`,
  );
  // Keep the texts alive until the RSS is read (a real informer holds only the cache; this is the worst case).
  if (responses.pods.length === 0) out('');
}

main();
