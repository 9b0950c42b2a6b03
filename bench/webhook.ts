// Webhook load benchmark (`npm run bench:webhook`): keep-alive HTTPS POSTs of a realistic
// Deployment AdmissionReview to /validate, against Bulwark and, in the same run, against a bare
// node:https server that parses the body and returns a fixed allowed review.
//
// Each server runs in its own child process, so the load generator does not share its event
// loop. Two modes per server:
// - closed loop: N concurrent keep-alive clients, each sending its next request when the last
//   one is answered: the maximum throughput;
// - fixed rate: 1,000 requests/s on a schedule; latency is measured from the scheduled send
//   time (no coordinated omission): p50/p99 at a realistic API-server load.
// The closed-loop runs alternate between the two servers in back-to-back pairs; the CPU ratio of each pair is taken and the median of the pairs
// reported, so that a busy neighbour on a shared machine skews both alike; the servers' own CPU
// time per request is reported too (the steadier number).
// Loopback only, bounded in time (per workload about (2 × rounds × duration) + 2 × rate-duration + warm-ups:
// ~1.5 min by default, ~30 s with --short).
//
//   node dist/bench/webhook.js [--short] [--rounds 25] [--duration 1] [--warmup 1] [--concurrency 32]
//     [--rate 1000] [--rate-duration 30] [--workload deployment|pod|both] [--profile DIR] [--no-pin] [--aa]
//     [--spin-us N]
//   (--profile: `node --cpu-prof` of both servers into DIR, for Chrome DevTools or speedscope)
//   (--spin-us N: a calibration — the Bulwark slot runs the bare server plus N µs of busy CPU per
//    review, to see what a known amount of added work reads as on this machine)
//
// Pinning: with `taskset` and two or more CPUs, the load generator runs on CPU 0 and the servers
// on the others, so neither server shares a core with the generator. Unpinned, the scheduler's
// placement favoured one slot: a Bulwark-against-Bulwark run (`--aa`) measured 1.05–1.11 instead
// of 1.0; pinned, 0.98–1.01.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncStderr, createLogger } from '../core/log.js';
import { createCA, createServingCert } from '../certs/x509.js';
import { compileConfig } from '../policies/config.js';
import { defaultConfig } from '../config/load.js';
import { LogAlertSink } from '../alerts/log.js';
import { startWebhookServer } from '../webhook/server.js';
import { review } from './shapes.js';

interface Args {
  rounds: number;
  duration: number;
  warmup: number;
  concurrency: number;
  rate: number;
  /** Seconds of the fixed-rate run (30 by default; `--short` makes it 5). */
  rateDuration: number;
  /** Which workloads: deployment, pod or both. */
  workload: string;
  /** Write a --cpu-prof profile of the Bulwark server into this directory. */
  profile: string;
  /** Pin the generator to CPU 0 and the servers to the other CPUs (taskset). */
  pin: boolean;
  /** Bulwark in both slots: the noise floor of the CPU ratio (should read 1.0). */
  aa: boolean;
  /** When > 0: the Bulwark slot runs the bare server plus this many µs of busy CPU per review. */
  spinUs: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    rounds: 25,
    duration: 1,
    warmup: 1,
    concurrency: 32,
    rate: 1000,
    rateDuration: 30,
    workload: 'both',
    profile: '',
    pin: true,
    aa: false,
    spinUs: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--short') {
      args.rateDuration = 5;
      args.rounds = 11;
      continue;
    }
    if (flag === '--no-pin' || flag === '--aa') {
      if (flag === '--no-pin') args.pin = false;
      else args.aa = true;
      continue;
    }
    const key = flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()) as keyof Args;
    if (!(key in args)) throw new Error(`unknown option ${flag}`);
    const value = argv[++i];
    if (value === undefined) throw new Error(`option ${flag} needs a value`);
    if (key === 'workload' || key === 'profile') args[key] = value;
    else if (key === 'pin' || key === 'aa') throw new Error(`unknown option ${flag}`);
    else {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`option ${flag}: expected a positive number, got ${value}`);
      args[key] = n;
    }
  }
  if (!['deployment', 'pod', 'both'].includes(args.workload)) throw new Error(`--workload: expected deployment, pod or both, got ${args.workload}`);
  return args;
}

// ---- the review: a Deployment as `kubectl apply` creates it (managedFields, last-applied annotation) ----

function deploymentReview(): string {
  const container = (name: string, image: string, port: number) => ({
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
      { name: 'FEATURE_FLAGS', value: 'search,checkout,recommendations' },
    ],
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    livenessProbe: { httpGet: { path: '/healthz', port, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/ready', port, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'config', mountPath: '/etc/app', readOnly: true },
    ],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  });
  const labels = {
    'app.kubernetes.io/name': 'storefront',
    'app.kubernetes.io/instance': 'storefront-prod',
    'app.kubernetes.io/version': '2.14.1',
    team: 'commerce',
  };
  const spec = {
    replicas: 6,
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    selector: { matchLabels: { 'app.kubernetes.io/name': 'storefront', 'app.kubernetes.io/instance': 'storefront-prod' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' } },
      spec: {
        serviceAccountName: 'storefront',
        automountServiceAccountToken: false,
        securityContext: { runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
        initContainers: [{ ...container('migrate', 'registry.example.com/commerce/storefront-migrate:2.14.1', 8081), ports: [] }],
        containers: [
          container('storefront', 'registry.example.com/commerce/storefront:2.14.1', 8080),
          container('metrics-sidecar', 'registry.example.com/platform/metrics-proxy:1.9.0', 9090),
        ],
        volumes: [
          { name: 'tmp', emptyDir: {} },
          { name: 'config', configMap: { name: 'storefront-config', defaultMode: 420 } },
        ],
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'storefront' } } },
              },
            ],
          },
        },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'commerce', effect: 'NoSchedule' }],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        schedulerName: 'default-scheduler',
      },
    },
  };
  const applied = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'storefront', namespace: 'commerce', labels }, spec };
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'storefront',
      namespace: 'commerce',
      uid: '8d5c7a4e-2f3b-4c1d-9e8f-7a6b5c4d3e2f',
      creationTimestamp: '2025-06-01T10:00:00Z',
      generation: 1,
      labels,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) + '\n' },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: '2025-06-01T10:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
              'f:labels': Object.fromEntries(Object.keys(labels).map((k) => [`f:${k}`, {}])),
            },
            'f:spec': {
              'f:replicas': {},
              'f:selector': {},
              'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
              'f:template': {
                'f:metadata': { 'f:labels': {} },
                'f:spec': {
                  'f:containers': {
                    'k:{"name":"storefront"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:env': {}, 'f:ports': {} },
                    'k:{"name":"metrics-sidecar"}': { '.': {}, 'f:image': {}, 'f:name': {} },
                  },
                },
              },
            },
          },
        },
      ],
    },
    spec,
    status: {},
  };
  return review(object, {
    requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
    name: 'storefront',
    namespace: 'commerce',
    userInfo: { username: 'alice@example.com', uid: 'u-1', groups: ['commerce-deployers', 'system:authenticated'] },
    oldObject: null,
    dryRun: false,
    options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
  });
}

/** A single small Pod: one container, restricted-compliant. */
function podReview(): string {
  const object = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe', namespace: 'commerce', labels: { app: 'probe' } },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: 'registry.example.com/tools/probe:1.0.0',
          resources: { limits: { cpu: '100m', memory: '64Mi' } },
          securityContext: { allowPrivilegeEscalation: false, runAsUser: 1000, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
  return review(object, {
    uid: 'b7a1c2d3-0000-4000-8000-000000000001',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    name: 'probe',
    namespace: 'commerce',
    userInfo: { username: 'alice@example.com', groups: ['system:authenticated'] },
    oldObject: null,
    dryRun: false,
  });
}

// ---- servers (child processes) ----

const PROFILES = ['defender', 'pss-restricted'];

/**
 * What the child reports on SIGUSR2: its own CPU time, and since the last report its event-loop
 * delay and its garbage-collection pauses (the longest, and their sum), to tell a stall's cause.
 */
function reporter(): () => void {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let gcMax = 0;
  let gcTotal = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMax = Math.max(gcMax, e.duration);
      gcTotal += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  return () => {
    const report = { cpu: process.cpuUsage(), loop: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6, gcMax, gcTotal } };
    delay.reset();
    gcMax = 0;
    gcTotal = 0;
    process.stdout.write(JSON.stringify(report) + '\n');
  };
}

async function runChild(kind: string, certFile: string, keyFile: string, spinUs = 0): Promise<void> {
  const cert = fs.readFileSync(certFile);
  const key = fs.readFileSync(keyFile);
  let port: number;
  if (kind === 'bulwark') {
    // As `bulwark serve` logs: to an asynchronous stderr.
    const logger = createLogger({ level: 'info' }, asyncStderr());
    const handle = await startWebhookServer({
      compiled: compileConfig({ ...defaultConfig(), profiles: PROFILES }),
      logger,
      sinks: [new LogAlertSink(logger)],
      port: 0,
      address: '127.0.0.1',
      tls: { certFile, keyFile },
    });
    port = handle.port;
    process.once('SIGTERM', () => void handle.close(1000).then(() => process.exit(0)));
    process.on('SIGUSR2', reporter());
  } else {
    const server = https.createServer({ cert, key, minVersion: 'TLSv1.2', keepAliveTimeout: 65_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string } };
        if (spinUs > 0) {
          const until = process.hrtime.bigint() + BigInt(Math.round(spinUs * 1000));
          while (process.hrtime.bigint() < until);
        }
        const answer = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":${JSON.stringify(review.request.uid)},"allowed":true}}`;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as import('node:net').AddressInfo).port;
    process.once('SIGTERM', () => process.exit(0));
    process.on('SIGUSR2', reporter());
  }
  process.stdout.write(JSON.stringify({ port }) + '\n');
}

interface Child {
  child: ChildProcess;
  port: number;
  /**
   * The server process's own CPU time so far, in microseconds (user + system, from
   * process.cpuUsage() inside it), and its event-loop delay since the previous call.
   */
  cpu(): Promise<number>;
  loop(): LoopStats;
  /** The system part of the last cpu() reading, in microseconds. */
  system(): number;
}

/**
 * Starts the server of one slot in a child process: `serve` says which server runs there (Bulwark
 * in both slots with --aa), `cpus` the CPU list it is pinned to (taskset), if any.
 */
function startChild(kind: Kind, serve: Kind, certFile: string, keyFile: string, profileDir: string, cpus: string | undefined, spinUs = 0): Promise<Child> {
  const self = fileURLToPath(import.meta.url);
  const node = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${kind}.cpuprofile`] : [];
  const command = [process.execPath, ...node, self, '--child', serve, certFile, keyFile, String(spinUs)];
  const child = cpus
    ? spawn('taskset', ['-c', cpus, ...command], { stdio: ['ignore', 'pipe', 'ignore'] })
    : spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  let lastLoop: LoopStats = { p99: NaN, max: NaN, gcMax: NaN, gcTotal: NaN };
  let lastSystem = 0;
  const waiting: ((line: Record<string, unknown>) => void)[] = [];
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      const line = JSON.parse(out.slice(0, nl)) as Record<string, unknown>;
      out = out.slice(nl + 1);
      waiting.shift()?.(line);
    }
  });
  const next = () => new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    void next().then((line) =>
      resolve({
        child,
        port: line.port as number,
        cpu: async () => {
          const reply = next();
          child.kill('SIGUSR2');
          const line = await reply;
          const { user, system } = line.cpu as { user: number; system: number };
          lastLoop = line.loop as LoopStats;
          lastSystem = system;
          return user + system;
        },
        loop: () => lastLoop,
        system: () => lastSystem,
      }),
    );
  });
}

// ---- load generator ----

interface Result {
  requests: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

function post(agent: https.Agent, port: number, ca: Buffer, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca,
        agent,
        method: 'POST',
        path: '/validate',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function closedLoop(agent: https.Agent, port: number, ca: Buffer, body: Buffer, concurrency: number, ms: number): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        await post(agent, port, ca, body);
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  return { requests: latencies.length, errors, seconds, latenciesMs: latencies };
}

async function fixedRate(agent: https.Agent, port: number, ca: Buffer, body: Buffer, rate: number, ms: number): Promise<Result> {
  const total = Math.round((rate * ms) / 1000);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      while (sent < due) {
        const scheduled = start + sent * interval;
        sent++;
        const p = post(agent, port, ca, body).then(
          () => void latencies.push(performance.now() - scheduled),
          () => void errors++,
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all([...inflight]);
  const seconds = (performance.now() - start) / 1000;
  return { requests: latencies.length, errors, seconds, latenciesMs: latencies };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

type Kind = 'bare' | 'bulwark';
const KINDS: readonly Kind[] = ['bare', 'bulwark'];

/** A server's event-loop delay (p99, max) and GC pauses (longest, sum) over one run, in ms. */
interface LoopStats {
  p99: number;
  max: number;
  gcMax: number;
  gcTotal: number;
}

function summary(r: Result, cpuMicros: number, loop: LoopStats) {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  return {
    rps: r.requests / r.seconds,
    cpuPerRequest: cpuMicros / Math.max(1, r.requests + r.errors),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1] ?? NaN,
    loopP99: loop.p99,
    loopMax: loop.max,
    gcMax: loop.gcMax,
    gcPerSecond: loop.gcTotal / r.seconds,
    errors: r.errors,
  };
}
type Summary = ReturnType<typeof summary>;

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function request(port: number, ca: Buffer, body: Buffer): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, servername: 'localhost', ca, method: 'POST', path: '/validate', headers: { 'content-type': 'application/json' } },
      (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve(t));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One workload: interleaved closed-loop pairs (CPU ratio per pair), then a fixed-rate run per server. */
async function runWorkload(name: string, body: Buffer, servers: Record<Kind, Child>, caPem: Buffer, args: Args): Promise<void> {
  for (const kind of KINDS) {
    const answer = await request(servers[kind].port, caPem, body);
    if (!answer.includes('"allowed":true')) throw new Error(`${kind}: unexpected answer to the ${name} review: ${answer}`);
  }
  const closedRuns: Record<Kind, Summary[]> = { bare: [], bulwark: [] };
  const cpuRatios: number[] = [];
  const systemShare: Record<Kind, number[]> = { bare: [], bulwark: [] };
  const rpsRatios: number[] = [];
  const agents = {
    bare: new https.Agent({ keepAlive: true, maxSockets: args.concurrency }),
    bulwark: new https.Agent({ keepAlive: true, maxSockets: args.concurrency }),
  };
  for (const kind of KINDS) await closedLoop(agents[kind], servers[kind].port, caPem, body, args.concurrency, args.warmup * 1000);
  // Pairs run back to back in alternating order: a busy neighbour hits both members of a pair alike.
  for (let round = 0; round < args.rounds; round++) {
    const order: readonly Kind[] = round % 2 === 0 ? ['bare', 'bulwark'] : ['bulwark', 'bare'];
    const pair: Partial<Record<Kind, Summary>> = {};
    for (const kind of order) {
      const cpu0 = await servers[kind].cpu();
      const sys0 = servers[kind].system();
      const run = await closedLoop(agents[kind], servers[kind].port, caPem, body, args.concurrency, args.duration * 1000);
      const cpu = (await servers[kind].cpu()) - cpu0;
      pair[kind] = summary(run, cpu, servers[kind].loop());
      systemShare[kind].push((servers[kind].system() - sys0) / cpu);
      closedRuns[kind].push(pair[kind]);
    }
    cpuRatios.push(pair.bare!.cpuPerRequest / pair.bulwark!.cpuPerRequest);
    rpsRatios.push(pair.bulwark!.rps / pair.bare!.rps);
  }
  agents.bare.destroy();
  agents.bulwark.destroy();
  const fixed: Partial<Record<Kind, Summary>> = {};
  const rateOrder: readonly Kind[] = ['bulwark', 'bare'];
  for (const kind of rateOrder) {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
    await fixedRate(agent, servers[kind].port, caPem, body, args.rate, args.warmup * 1000);
    const cpu0 = await servers[kind].cpu();
    const run = await fixedRate(agent, servers[kind].port, caPem, body, args.rate, args.rateDuration * 1000);
    fixed[kind] = summary(run, (await servers[kind].cpu()) - cpu0, servers[kind].loop());
    agent.destroy();
  }

  const med = (runs: Summary[]): Summary => [...runs].sort((a, b) => a.cpuPerRequest - b.cpuPerRequest)[Math.floor(runs.length / 2)]!;
  console.log(`\n== ${name} (${body.length} bytes), profiles ${PROFILES.join(' + ')}, load average ${os.loadavg()[0]!.toFixed(2)} ==`);
  const head = ['req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'loop p99', 'loop max', 'gc max', 'gc ms/s', 'server µs/req', 'errors'];
  console.log(`${'server / mode'.padEnd(24)} ${head.map((h) => h.padStart(h.length > 8 ? h.length : 8)).join(' ')}`);
  const row = (label: string, s: Summary) =>
    `${label.padEnd(24)} ${[fmt(s.rps, 0), fmt(s.p50), fmt(s.p99), fmt(s.p999), fmt(s.max), fmt(s.loopP99), fmt(s.loopMax), fmt(s.gcMax), fmt(s.gcPerSecond)].map((v) => v.padStart(8)).join(' ')} ${fmt(s.cpuPerRequest, 0).padStart(13)} ${String(s.errors).padStart(8)}`;
  for (const kind of KINDS) {
    console.log(row(`${kind} closed (median)`, med(closedRuns[kind])));
    console.log(row(`${kind} ${args.rate}/s ${args.rateDuration}s`, fixed[kind]!));
  }
  console.log(
    `server µs/req per pair: bare ${closedRuns.bare.map((r) => fmt(r.cpuPerRequest, 0)).join(', ')}; bulwark ${closedRuns.bulwark.map((r) => fmt(r.cpuPerRequest, 0)).join(', ')}`,
  );
  console.log(
    `system (kernel) share of that CPU, median: bare ${fmt(median(systemShare.bare) * 100, 0)}%, bulwark ${fmt(median(systemShare.bulwark) * 100, 0)}%`,
  );
  console.log(
    `CPU efficiency bare/bulwark, median of ${cpuRatios.length} pairs: ${fmt(median(cpuRatios))} (pairs ${cpuRatios.map((r) => fmt(r)).join(', ')}; spread ${fmt(Math.min(...cpuRatios))}–${fmt(Math.max(...cpuRatios))})`,
  );
  console.log(`throughput bulwark/bare, median of pairs: ${fmt(median(rpsRatios))} (pairs ${rpsRatios.map((r) => fmt(r)).join(', ')})`);
  console.log(
    `p99 at ${args.rate}/s: bulwark ${fmt(fixed.bulwark!.p99)} ms, bare ${fmt(fixed.bare!.p99)} ms (difference ${fmt(fixed.bulwark!.p99 - fixed.bare!.p99)} ms; goal ≤ 2 ms)`,
  );
}

/** Pins this process (the load generator) to CPU 0; the CPU list for the servers, or undefined when pinning is not possible. */
function pinGenerator(): string | undefined {
  const n = os.cpus().length;
  if (n < 2) return undefined;
  try {
    execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return n === 2 ? '1' : `1-${n - 1}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await runChild(argv[1]!, argv[2]!, argv[3]!, Number(argv[4] ?? 0));
    return;
  }
  const args = parseArgs(argv);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-'));
  const ca = createCA({ commonName: 'bench-ca' });
  const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  fs.writeFileSync(certFile, leaf.certPem);
  fs.writeFileSync(keyFile, leaf.keyPem);
  const caPem = Buffer.from(ca.certPem);

  console.log(
    `bench/webhook: Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `closed loop: ${args.concurrency} keep-alive clients, ${args.rounds} alternating pairs of ${args.duration}s; fixed rate: ${args.rate} req/s for ${args.rateDuration}s per server; warm-up ${args.warmup}s`,
  );
  console.log("CPU = the server process's own utime+stime (process.cpuUsage() inside it); loop = its event-loop delay (perf_hooks.monitorEventLoopDelay), ms");

  const profileDir = args.profile ? path.resolve(args.profile) : '';
  const serverCpus = args.pin ? pinGenerator() : undefined;
  console.log(
    serverCpus
      ? `pinned: load generator on CPU 0, servers on CPU ${serverCpus}`
      : `not pinned${args.pin ? ' (needs taskset and 2 or more CPUs)' : ''}: generator and servers share the cores`,
  );
  if (args.aa) console.log('--aa: Bulwark in both slots ("bare" is a second Bulwark): the ratios show the noise floor, 1.0 expected');
  if (args.spinUs > 0)
    console.log(`--spin-us ${args.spinUs}: the "bulwark" slot is the bare server plus ${args.spinUs} µs of busy CPU per review (a calibration, not Bulwark)`);
  const servers: Record<Kind, Child> = {
    bare: await startChild('bare', args.aa ? 'bulwark' : 'bare', certFile, keyFile, profileDir, serverCpus),
    bulwark: await startChild('bulwark', args.spinUs > 0 ? 'bare' : 'bulwark', certFile, keyFile, profileDir, serverCpus, args.spinUs),
  };
  try {
    if (args.workload !== 'pod') await runWorkload('3-container Deployment', Buffer.from(deploymentReview()), servers, caPem, args);
    if (args.workload !== 'deployment') await runWorkload('single small Pod', Buffer.from(podReview()), servers, caPem, args);
  } finally {
    for (const { child } of Object.values(servers)) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (profileDir) console.log(`\nCPU profiles of both servers (bare.cpuprofile, bulwark.cpuprofile) written to ${profileDir}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
