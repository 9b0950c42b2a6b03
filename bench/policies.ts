// Policy evaluation against the cost of reading the request it judges.
//
// The webhook JSON.parses every AdmissionReview before a check runs, so parsing is the floor of
// the hot path. Target: evaluating the defender, pss-baseline and pss-restricted sets together on
// a realistic workload costs at most a quarter of parsing its review (ratio ≤ 0.25).
//
//   npm run bench                 (after `npm run build`)
//   BENCH_ROUNDS=9 BENCH_ROUND_MS=500 node dist/bench/policies.js
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { compileConfig, type CompiledConfig } from '../policies/config.js';
import { defaultConfig } from '../config/load.js';
import { evaluateSubject } from '../policies/evaluate.js';
import { toSubject } from '../policies/subject.js';
import type { K8sObject } from '../policies/types.js';
import { reviewObject } from './shapes.js';

const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 7);
const ROUND_MS = positiveInt(process.env.BENCH_ROUND_MS, 300);
const WARMUP_MS = positiveInt(process.env.BENCH_WARMUP_MS, 1000);
const TARGET_RATIO = 0.25;

/** A web API as teams ship it: the app, an Envoy sidecar, a log shipper reading the node's logs. */
export function deployment(): K8sObject {
  const probe = (path: string, port: number, period: number) => ({
    httpGet: { path, port, scheme: 'HTTP' },
    initialDelaySeconds: 5,
    periodSeconds: period,
    timeoutSeconds: 2,
    successThreshold: 1,
    failureThreshold: 3,
  });
  const hardened = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'orders-api',
      namespace: 'shop',
      uid: '0c6d8b4e-5f8e-4a57-9a8e-3e5b2f1c9d10',
      generation: 14,
      labels: {
        'app.kubernetes.io/name': 'orders-api',
        'app.kubernetes.io/instance': 'orders-api-prod',
        'app.kubernetes.io/version': '3.18.2',
        'app.kubernetes.io/component': 'api',
        'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': 'orders-api-3.18.2',
      },
      annotations: {
        'deployment.kubernetes.io/revision': '14',
        'meta.helm.sh/release-name': 'orders-api-prod',
        'meta.helm.sh/release-namespace': 'shop',
      },
    },
    spec: {
      replicas: 4,
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'orders-api', 'app.kubernetes.io/instance': 'orders-api-prod' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: {
            'app.kubernetes.io/name': 'orders-api',
            'app.kubernetes.io/instance': 'orders-api-prod',
            'app.kubernetes.io/version': '3.18.2',
            'security.istio.io/tlsMode': 'istio',
          },
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': '9090',
            'prometheus.io/path': '/metrics',
            'checksum/config': '4b7e1c0f3a9d2e8b6c5a4f3e2d1c0b9a8f7e6d5c4b3a29180716253443526170',
          },
        },
        spec: {
          serviceAccountName: 'orders-api',
          automountServiceAccountToken: true,
          terminationGracePeriodSeconds: 45,
          priorityClassName: 'business-critical',
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    topologyKey: 'kubernetes.io/hostname',
                    labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'orders-api' } },
                  },
                },
              ],
            },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'topology.kubernetes.io/zone',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'orders-api' } },
            },
          ],
          tolerations: [{ key: 'workload', operator: 'Equal', value: 'api', effect: 'NoSchedule' }],
          containers: [
            {
              name: 'orders-api',
              image: 'registry.example.com/shop/orders-api:3.18.2@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
              imagePullPolicy: 'IfNotPresent',
              args: ['--config=/etc/orders/config.yaml', '--listen=:8080', '--metrics-listen=:9090'],
              ports: [
                { name: 'http', containerPort: 8080, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
              ],
              env: [
                { name: 'ORDERS_ENV', value: 'production' },
                { name: 'ORDERS_LOG_FORMAT', value: 'json' },
                { name: 'ORDERS_DB_HOST', value: 'orders-db.shop.svc.cluster.local' },
                { name: 'ORDERS_DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-db', key: 'password' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
                { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability:4317' },
              ],
              envFrom: [{ configMapRef: { name: 'orders-api-env' } }],
              resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '1Gi' } },
              startupProbe: probe('/healthz', 8080, 5),
              livenessProbe: probe('/healthz', 8080, 10),
              readinessProbe: probe('/readyz', 8080, 5),
              lifecycle: { preStop: { exec: { command: ['/bin/sleep', '10'] } } },
              securityContext: hardened,
              volumeMounts: [
                { name: 'config', mountPath: '/etc/orders', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'db-ca', mountPath: '/etc/ssl/orders-db', readOnly: true },
              ],
            },
            {
              name: 'envoy',
              image: 'envoyproxy/envoy:v1.31.2',
              args: ['-c', '/etc/envoy/envoy.yaml', '--log-level', 'warn', '--drain-time-s', '30'],
              ports: [
                { name: 'https', containerPort: 8443, protocol: 'TCP' },
                { name: 'admin', containerPort: 9901, protocol: 'TCP' },
              ],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              readinessProbe: probe('/ready', 9901, 5),
              securityContext: { ...hardened, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
              volumeMounts: [
                { name: 'envoy-config', mountPath: '/etc/envoy', readOnly: true },
                { name: 'tls', mountPath: '/etc/envoy/tls', readOnly: true },
              ],
            },
            {
              name: 'log-shipper',
              image: 'fluent/fluent-bit:3.1.9',
              args: ['--config=/fluent-bit/etc/fluent-bit.yaml'],
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'LOKI_URL', value: 'http://loki-gateway.observability/loki/api/v1/push' },
              ],
              resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { memory: '64Mi' } },
              livenessProbe: probe('/api/v1/health', 2020, 30),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'fluent-bit-config', mountPath: '/fluent-bit/etc', readOnly: true },
                { name: 'varlog', mountPath: '/var/log', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: 'orders-api-config', defaultMode: 0o444 } },
            { name: 'envoy-config', configMap: { name: 'orders-api-envoy' } },
            { name: 'fluent-bit-config', configMap: { name: 'orders-api-fluent-bit' } },
            { name: 'tls', secret: { secretName: 'orders-api-tls', defaultMode: 0o400 } },
            {
              name: 'db-ca',
              projected: { sources: [{ secret: { name: 'orders-db-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] },
            },
            { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
            { name: 'varlog', hostPath: { path: '/var/log', type: 'Directory' } },
          ],
        },
      },
    },
  };
}

export function admissionReview(object: K8sObject): unknown {
  return reviewObject(object, {
    requestKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
    name: 'orders-api',
    namespace: 'shop',
    operation: 'UPDATE',
    userInfo: {
      username: 'system:serviceaccount:argocd:argocd-application-controller',
      uid: '4a0c2f1e-92bb-4f7a-9d0e-8d6f2b7c1a55',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['argocd-application-controller-0'],
        'authentication.kubernetes.io/pod-uid': ['b1f7a9c2-3d4e-4f50-8a6b-7c8d9e0f1a2b'],
      },
    },
    oldObject: null,
    dryRun: false,
    options: { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions', fieldManager: 'argocd-controller' },
  });
}

/** Median ops/s over ROUNDS rounds of ROUND_MS each; rounds of different candidates interleave. */
function measure(candidates: Record<string, () => number>): Record<string, number> {
  const names = Object.keys(candidates);
  for (const name of names) runFor(candidates[name]!, WARMUP_MS);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names) rates[name]!.push(runFor(candidates[name]!, ROUND_MS));
  }
  return Object.fromEntries(names.map((n) => [n, median(rates[n]!)]));
}

let sink = 0; // keeps the optimiser from dropping the work

function runFor(fn: () => number, ms: number): number {
  const batch = 50;
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now: bigint;
  do {
    for (let i = 0; i < batch; i++) sink += fn();
    ops += batch;
    now = process.hrtime.bigint();
  } while (now < deadline);
  return ops / (Number(now - start) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function compiled(profiles: string[]): CompiledConfig {
  return compileConfig({ ...defaultConfig(), profiles });
}

function main(): void {
  const text = JSON.stringify(admissionReview(deployment()));
  const review = JSON.parse(text) as { request: { object: K8sObject; userInfo: { username: string; groups: string[] }; operation: string } };
  const { object, userInfo, operation } = review.request;
  const ctx = { user: { username: userInfo.username, groups: userInfo.groups }, operation };
  const evaluate = (config: CompiledConfig) => (): number => {
    const subject = toSubject(object);
    return subject ? evaluateSubject(subject, config, ctx).findings.length : 0;
  };
  const sets: Record<string, CompiledConfig> = {
    'defender + pss-baseline + pss-restricted': compiled(['defender', 'pss-baseline', 'pss-restricted']),
    defender: compiled(['defender']),
    'pss-baseline': compiled(['pss-baseline']),
    'pss-restricted': compiled(['pss-restricted']),
  };
  const all = sets['defender + pss-baseline + pss-restricted']!;
  const subject = toSubject(object)!;
  const findings = evaluateSubject(subject, all, ctx).findings;

  const out = (line = ''): void => void process.stdout.write(line + '\n');
  out(`bulwark policy bench — Node ${process.version}, ${process.platform} ${process.arch}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'})`);
  out(`input: AdmissionReview of a 3-container Deployment, ${(Buffer.byteLength(text) / 1024).toFixed(1)} KB of JSON`);
  out(
    `active checks: ${Object.entries(sets)
      .map(([n, c]) => `${n} ${c.checks.length}`)
      .join(', ')}`,
  );
  out(`findings on the input (all sets): ${findings.length} — ${[...new Set(findings.map((f) => f.policy))].join(', ') || 'none'}`);
  out(`method: ${WARMUP_MS} ms warm-up each, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, median ops/s`);
  out();

  const candidates: Record<string, () => number> = { 'JSON.parse(AdmissionReview)': () => ((JSON.parse(text) as unknown[]) ? 1 : 0) };
  for (const [name, config] of Object.entries(sets)) candidates[`evaluate ${name}`] = evaluate(config);
  const rates = measure(candidates);

  const parse = rates['JSON.parse(AdmissionReview)']!;
  const width = Math.max(...Object.keys(rates).map((n) => n.length)) + 2;
  for (const [name, rate] of Object.entries(rates)) {
    const ratio = name.startsWith('evaluate') ? `  cost ${(parse / rate).toFixed(3)}× parse` : '';
    out(`${name.padEnd(width)}${Math.round(rate).toLocaleString('en-US').padStart(12)} ops/s  ${(1e6 / rate).toFixed(2).padStart(8)} µs/op${ratio}`);
  }
  const ratio = parse / rates['evaluate defender + pss-baseline + pss-restricted']!;
  out();
  out(`ratio (all sets evaluate / parse cost): ${ratio.toFixed(3)} — target ≤ ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'NOT MET'}`);

  // Where the time goes: each check alone on the same subject (shorter rounds), the costliest first.
  const context = { ...ctx, lists: all.config.lists };
  const perCheck = all.checks
    .filter((c) => c.appliesTo.includes(subject.type))
    .map((c) => {
      const fn = (): number => c.evaluate(subject, context).length;
      runFor(fn, Math.min(WARMUP_MS, 200));
      const r: number[] = [];
      for (let i = 0; i < 3; i++) r.push(runFor(fn, Math.min(ROUND_MS, 100)));
      return { id: c.id, us: 1e6 / median(r) };
    })
    .sort((a, b) => b.us - a.us);
  out();
  out(
    `costliest checks alone (µs/op): ${perCheck
      .slice(0, 5)
      .map((c) => `${c.id} ${c.us.toFixed(2)}`)
      .join(', ')}`,
  );
  if (sink === -1) out(); // sink is read, so the work above is observable
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
