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
// The closed-loop runs alternate between the two servers over several rounds and the median is
// reported, so that a busy neighbour on a shared machine skews both alike; the servers' own CPU
// time per request is reported too (the steadier number).
// Loopback only, bounded in time (about (2 × rounds + 4) × duration + warm-ups: ~45 s by default).
//
//   node dist/bench/webhook.js [--rounds 3] [--duration 4] [--warmup 1] [--concurrency 32] [--rate 1000]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../core/log.js';
import { createCA, createServingCert } from '../certs/x509.js';
import { compileConfig } from '../policies/config.js';
import { defaultConfig } from '../config/load.js';
import { LogAlertSink } from '../alerts/log.js';
import { startWebhookServer } from '../webhook/server.js';

interface Args {
  rounds: number;
  duration: number;
  warmup: number;
  concurrency: number;
  rate: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rounds: 3, duration: 4, warmup: 1, concurrency: 32, rate: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!.replace(/^--/, '') as keyof Args;
    if (key in args) args[key] = Number(argv[++i]);
  }
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
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'config', mountPath: '/etc/app', readOnly: true }],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  });
  const labels = { 'app.kubernetes.io/name': 'storefront', 'app.kubernetes.io/instance': 'storefront-prod', 'app.kubernetes.io/version': '2.14.1', team: 'commerce' };
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
        volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'config', configMap: { name: 'storefront-config', defaultMode: 420 } }],
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'storefront' } } } },
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
          manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', time: '2025-06-01T10:00:00Z', fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} }, 'f:labels': Object.fromEntries(Object.keys(labels).map((k) => [`f:${k}`, {}])) },
            'f:spec': { 'f:replicas': {}, 'f:selector': {}, 'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} }, 'f:template': { 'f:metadata': { 'f:labels': {} }, 'f:spec': { 'f:containers': { 'k:{"name":"storefront"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:env': {}, 'f:ports': {} }, 'k:{"name":"metrics-sidecar"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
          },
        },
      ],
    },
    spec,
    status: {},
  };
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
      name: 'storefront',
      namespace: 'commerce',
      operation: 'CREATE',
      userInfo: { username: 'alice@example.com', uid: 'u-1', groups: ['commerce-deployers', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
    },
  });
}

// ---- servers (child processes) ----

const FIXED_ALLOWED = '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":true}}';

async function runChild(kind: string, certFile: string, keyFile: string): Promise<void> {
  const cert = fs.readFileSync(certFile);
  const key = fs.readFileSync(keyFile);
  let port: number;
  if (kind === 'bulwark') {
    const logger = createLogger({ level: 'info' });
    const handle = await startWebhookServer({
      compiled: compileConfig(defaultConfig()),
      logger,
      sinks: [new LogAlertSink(logger)],
      port: 0,
      address: '127.0.0.1',
      tls: { certFile, keyFile },
    });
    port = handle.port;
    process.once('SIGTERM', () => void handle.close(1000).then(() => process.exit(0)));
    process.on('SIGUSR2', () => process.stdout.write(JSON.stringify({ cpu: process.cpuUsage() }) + '\n'));
  } else {
    const server = https.createServer({ cert, key, minVersion: 'TLSv1.2', keepAliveTimeout: 65_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(FIXED_ALLOWED) });
        res.end(FIXED_ALLOWED);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as import('node:net').AddressInfo).port;
    process.once('SIGTERM', () => process.exit(0));
    process.on('SIGUSR2', () => process.stdout.write(JSON.stringify({ cpu: process.cpuUsage() }) + '\n'));
  }
  process.stdout.write(JSON.stringify({ port }) + '\n');
}

interface Child {
  child: ChildProcess;
  port: number;
  /** The server process's CPU time so far, in microseconds (user + system). */
  cpu(): Promise<number>;
}

function startChild(kind: 'bulwark' | 'bare', certFile: string, keyFile: string): Promise<Child> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [self, '--child', kind, certFile, keyFile], { stdio: ['ignore', 'pipe', 'ignore'] });
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
          const { user, system } = (await reply).cpu as { user: number; system: number };
          return user + system;
        },
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
        host: '127.0.0.1', port, servername: 'localhost', ca, agent, method: 'POST', path: '/validate',
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

function summary(r: Result, cpuMicros: number) {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  return {
    rps: r.requests / r.seconds,
    cpuPerRequest: cpuMicros / Math.max(1, r.requests + r.errors),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1] ?? NaN,
    errors: r.errors,
  };
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await runChild(argv[1]!, argv[2]!, argv[3]!);
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
  const body = Buffer.from(deploymentReview());

  console.log(`bench/webhook: Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(2)}, review ${body.length} bytes`);
  console.log(`closed loop: ${args.concurrency} keep-alive clients, ${args.rounds} interleaved rounds of ${args.duration}s per server (median shown); fixed rate: ${args.rate} req/s for ${args.duration}s; warm-up ${args.warmup}s\n`);

  const servers = { bare: await startChild('bare', certFile, keyFile), bulwark: await startChild('bulwark', certFile, keyFile) };
  type Summary = ReturnType<typeof summary>;
  const closedRuns: Record<'bare' | 'bulwark', Summary[]> = { bare: [], bulwark: [] };
  const fixed: Partial<Record<'bare' | 'bulwark', Summary>> = {};
  try {
    // Sanity: a clean Deployment is allowed.
    const check = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: servers.bulwark.port, servername: 'localhost', ca: caPem, method: 'POST', path: '/validate', headers: { 'content-type': 'application/json' } }, (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve(t));
      });
      req.on('error', reject);
      req.end(body);
    });
    if (!check.includes('"allowed":true')) throw new Error(`unexpected answer: ${check}`);

    // Each mode keeps its agent from warm-up to measurement: connections are set up before timing.
    const closedAgents = {
      bare: new https.Agent({ keepAlive: true, maxSockets: args.concurrency }),
      bulwark: new https.Agent({ keepAlive: true, maxSockets: args.concurrency }),
    };
    for (const kind of ['bare', 'bulwark'] as const) {
      await closedLoop(closedAgents[kind], servers[kind].port, caPem, body, args.concurrency, args.warmup * 1000);
    }
    // Interleaved, alternating order: a noisy neighbour hits both servers alike.
    for (let round = 0; round < args.rounds; round++) {
      const order = round % 2 === 0 ? (['bare', 'bulwark'] as const) : (['bulwark', 'bare'] as const);
      for (const kind of order) {
        const cpu0 = await servers[kind].cpu();
        const run = await closedLoop(closedAgents[kind], servers[kind].port, caPem, body, args.concurrency, args.duration * 1000);
        closedRuns[kind].push(summary(run, (await servers[kind].cpu()) - cpu0));
      }
    }
    closedAgents.bare.destroy();
    closedAgents.bulwark.destroy();
    for (const kind of ['bare', 'bulwark'] as const) {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
      await fixedRate(agent, servers[kind].port, caPem, body, args.rate, args.warmup * 1000);
      const cpu0 = await servers[kind].cpu();
      const run = await fixedRate(agent, servers[kind].port, caPem, body, args.rate, args.duration * 1000);
      fixed[kind] = summary(run, (await servers[kind].cpu()) - cpu0);
      agent.destroy();
    }
  } finally {
    for (const { child } of Object.values(servers)) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  const median = (runs: Summary[]): Summary => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
  const closed = { bare: median(closedRuns.bare), bulwark: median(closedRuns.bulwark) };

  const row = (name: string, s: Summary) =>
    `${name.padEnd(22)} ${fmt(s.rps, 0).padStart(8)} ${fmt(s.p50).padStart(8)} ${fmt(s.p99).padStart(8)} ${fmt(s.p999).padStart(8)} ${fmt(s.max).padStart(8)} ${fmt(s.cpuPerRequest, 0).padStart(13)} ${String(s.errors).padStart(6)}`;
  console.log(`${'server / mode'.padEnd(22)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'p99.9 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'server µs/req'.padStart(13)} ${'errors'.padStart(6)}`);
  for (const kind of ['bare', 'bulwark'] as const) {
    console.log(row(`${kind} closed loop`, closed[kind]));
    console.log(row(`${kind} ${args.rate}/s`, fixed[kind]!));
  }
  console.log(`\nclosed-loop req/s per round: bare ${closedRuns.bare.map((r) => fmt(r.rps, 0)).join(', ')}; bulwark ${closedRuns.bulwark.map((r) => fmt(r.rps, 0)).join(', ')}`);
  console.log(`throughput ratio bulwark / bare: ${fmt(closed.bulwark.rps / closed.bare.rps)} (target ≥ 0.70)`);
  console.log(`server CPU per request: bare ${fmt(closed.bare.cpuPerRequest, 0)} µs, bulwark ${fmt(closed.bulwark.cpuPerRequest, 0)} µs (CPU ratio bare / bulwark ${fmt(closed.bare.cpuPerRequest / closed.bulwark.cpuPerRequest)})`);
  console.log(`bulwark p99 at ${args.rate} req/s: ${fmt(fixed.bulwark!.p99)} ms (target < 10 ms)`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
