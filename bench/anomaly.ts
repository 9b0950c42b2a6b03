// The service-account baseline at scale (audit/anomaly.ts): heap for 10,000 accounts, and the CPU
// of one observe() (the per-request cost the audit analyser adds for a service account).
//   realistic: 10 accounts per namespace in 1,000 namespaces, 60 operations each (their namespace's
//              resources, a few cluster-wide reads and discovery paths, one human client);
//   broad:     every account at anomaly.maxOperationsPerAccount (500), drawn from 20,000 operations
//              shared across accounts (cluster-wide controllers reading every namespace).
// Run: npx tsc -p tsconfig.json && node --expose-gc dist/bench/anomaly.js
import { AnomalyBaseline, defaultAnomalySettings } from '../audit/anomaly.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

/** Heap and array buffers (each account's operation numbers live in a Uint32Array, outside the JS heap). */
function heapMiB(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1024 / 1024;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const RESOURCES = [
  'pods',
  'configmaps',
  'secrets',
  'services',
  'endpoints',
  'events',
  'apps/deployments',
  'apps/replicasets',
  'batch/jobs',
  'coordination.k8s.io/leases',
];
const CLUSTER = ['get nodes cluster-wide', 'list namespaces cluster-wide', 'get /api', 'get /apis', 'get /version', 'list pods cluster-wide'];

/** `perAccount` operations an account; `opOf(i, k)` builds the k-th operation of account i afresh (as the analyser does per request). */
function run(name: string, accounts: number, perAccount: number, opOf: (i: number, k: number) => string): void {
  const before = heapMiB();
  const b = new AnomalyBaseline({ ...defaultAnomalySettings(), maxAccounts: accounts });
  const t0 = Date.UTC(2026, 10, 1);
  let learnCalls = 0;
  const learnStart = process.cpuUsage();
  for (let i = 0; i < accounts; i++) {
    const account = `system:serviceaccount:ns-${i % 1000}:sa-${i}`;
    for (let k = 0; k < perAccount; k++) {
      b.observe(account, opOf(i, k), k === 0 ? 'kubectl' : undefined, t0 + k, true);
      learnCalls++;
    }
    b.takePending(); // what BaselineSync hands to the store
  }
  const learnMs = cpuMs(learnStart);
  const after = heapMiB(); // the baseline alone: nothing else of the bench is still referenced
  // Judged requests: known and unknown operations, after the window.
  const probes = 1_000_000;
  const late = t0 + 8 * 86_400_000;
  let novel = 0;
  const judgeStart = process.cpuUsage();
  for (let n = 0; n < probes; n++) {
    const i = n % accounts;
    const op = n % 10 === 0 ? `delete secrets in ns-${(i + 1) % 1000}` : opOf(i, n % perAccount);
    const o = b.observe(`system:serviceaccount:ns-${i % 1000}:sa-${i}`, op, undefined, late, true);
    if (o && !o.known) novel++;
  }
  const judgeMs = cpuMs(judgeStart);
  const learned = b.summaries().reduce((sum, s) => sum + s.operations, 0);
  console.log(
    `${name}: ${accounts.toLocaleString('en')} accounts, ${learned.toLocaleString('en')} learned operations: heap +${(after - before).toFixed(1)} MiB ` +
      `(${(((after - before) * 1024 * 1024) / learned).toFixed(1)} B/operation); learn ${((learnMs * 1000) / learnCalls).toFixed(2)} µs/request, ` +
      `judge ${((judgeMs * 1000) / probes).toFixed(2)} µs/request (${novel.toLocaleString('en')} novel of ${probes.toLocaleString('en')})`,
  );
}

// Realistic: an account's operations in its own namespace, plus a few cluster-wide ones. Built
// afresh on each call (as the analyser builds them per request), so the bench holds none of them.
run('realistic', 10_000, 60, (i, k) =>
  k < CLUSTER.length ? CLUSTER[k]! : `${VERBS[(k + i) % VERBS.length]} ${RESOURCES[k % RESOURCES.length]} in ns-${i % 1000}`,
);

// Broad: 500 operations an account (the cap), from 20,000 shared ones.
const poolOp = (n: number) => `${VERBS[n % VERBS.length]} ${RESOURCES[n % RESOURCES.length]} in ns-${n % 2000}`;
run('broad', 10_000, 500, (i, k) => poolOp((i * 37 + k * 101) % 20_000));
