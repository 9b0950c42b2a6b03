// Shared fixtures of the webhook suites: certificates, a real HTTPS server on port 0, a client
// that trusts the test CA, AdmissionReview builders and one bad and one good object per kind.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../core/log.js';
import type { Alert, AlertSink } from '../../alerts/model.js';
import { createCA, createServingCert, type CertKeyPem } from '../../certs/x509.js';
import { compileConfig, type Action, type CompiledConfig } from '../../policies/config.js';
import { defaultConfig, type BulwarkConfig } from '../../config/load.js';
import type { K8sObject } from '../../policies/types.js';
import type { AdmissionRequest, AdmissionResponse } from '../../webhook/admission.js';
import { staticNamespaceModes } from '../../webhook/namespaces.js';
import { ReviewOffload } from '../../webhook/offload.js';
import { startWebhookServer, type WebhookServer, type WebhookServerOptions } from '../../webhook/server.js';

export interface TestCerts {
  dir: string;
  ca: CertKeyPem;
  certFile: string;
  keyFile: string;
  caFile: string;
}

export function tempDir(prefix = 'bulwark-webhook-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A CA and a serving certificate for localhost / 127.0.0.1 written to `dir`. */
export function makeCerts(dir = tempDir(), ca: CertKeyPem = createCA({ commonName: 'test-ca' })): TestCerts {
  const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  const caFile = path.join(dir, 'ca.crt');
  fs.writeFileSync(certFile, leaf.certPem);
  fs.writeFileSync(keyFile, leaf.keyPem);
  fs.writeFileSync(caFile, ca.certPem);
  return { dir, ca, certFile, keyFile, caFile };
}

/** An AlertSink that keeps what it is given. */
export class RecordingSink implements AlertSink {
  readonly alerts: Alert[] = [];
  async record(alert: Alert): Promise<void> {
    this.alerts.push(alert);
  }
}

/** Log lines as parsed JSON. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  logger(): Logger {
    return createLogger({ level: 'debug' }, this.stream);
  }
}

export function compiledWith(overrides: Partial<BulwarkConfig> = {}): CompiledConfig {
  return compileConfig({ ...defaultConfig(), ...overrides });
}

export interface TestServer {
  handle: WebhookServer;
  port: number;
  certs: TestCerts;
  sink: RecordingSink;
  logs: LogCapture;
  compiled: CompiledConfig;
  modes: ReturnType<typeof staticNamespaceModes>;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<Omit<WebhookServerOptions, 'compiled' | 'logger' | 'tls'>> {
  config?: Partial<BulwarkConfig>;
  compiled?: CompiledConfig;
  namespaceModeLabels?: Record<string, Action>;
  certs?: TestCerts;
  clientCAFile?: string;
}

/**
 * Every review through the review worker thread (webhook/offload.ts, threshold 0): test/webhook/
 * offloaded.test.ts sets this, then runs whole suites again. Servers given a `compiled` with checks
 * of their own (not a config) keep judging on the server's thread: the worker compiles the config.
 */
export const offloadAll = { on: false };

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const certs = options.certs ?? makeCerts();
  const sink = new RecordingSink();
  const logs = new LogCapture();
  const compiled = options.compiled ?? compiledWith(options.config);
  const modes = staticNamespaceModes(options.namespaceModeLabels ?? {});
  const { config: _c, compiled: _cc, namespaceModeLabels: _n, certs: _ce, clientCAFile, ...rest } = options;
  const offload = offloadAll.on && !options.compiled && !options.offload ? new ReviewOffload({ logger: logs.logger(), threshold: 0 }) : undefined;
  const handle = await startWebhookServer({
    ...(offload ? { offload } : {}),
    compiled,
    logger: logs.logger(),
    sinks: [sink],
    namespaceModes: modes,
    port: 0,
    address: '127.0.0.1',
    tls: { certFile: certs.certFile, keyFile: certs.keyFile, clientCAFile },
    certPollIntervalMs: 200,
    shutdownGraceMs: 5000,
    ...rest,
  });
  return {
    handle,
    port: handle.port,
    certs,
    sink,
    logs,
    compiled,
    modes,
    close: async () => {
      await handle.close(2000);
      await offload?.close();
    },
  };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
  /** The serving certificate's fingerprint. */
  fingerprint: string | undefined;
  reusedSocket: boolean;
  sessionReused: boolean;
}

export interface RequestOptions {
  method?: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string | number>;
  ca?: string | Buffer;
  agent?: https.Agent | false;
  cert?: string;
  key?: string;
}

export function request(port: number, ca: string | Buffer, opts: RequestOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
      headers['content-length'] = Buffer.byteLength(opts.body);
    }
    const req = https.request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers,
        ca: opts.ca ?? ca,
        agent: opts.agent ?? false,
        ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const socket = res.socket as import('node:tls').TLSSocket | null;
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text),
            fingerprint: socket?.getPeerCertificate?.()?.fingerprint256,
            reusedSocket: req.reusedSocket,
            sessionReused: socket?.isSessionReused?.() ?? false,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** A client bound to a test server. */
export function client(ts: TestServer) {
  const ca = fs.readFileSync(ts.certs.caFile);
  return {
    get: (p: string, extra: Partial<RequestOptions> = {}) => request(ts.port, ca, { path: p, ...extra }),
    post: (p: string, body: unknown, extra: Partial<RequestOptions> = {}) =>
      request(ts.port, ca, {
        method: 'POST',
        path: p,
        body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
        ...extra,
        headers: { 'content-type': 'application/json', ...(extra.headers ?? {}) },
      }),
    /** POSTs a review to /validate (or `route`) and returns the response part. */
    async review(review: unknown, route = '/validate'): Promise<AdmissionResponse> {
      const res = await request(ts.port, ca, {
        method: 'POST',
        path: route,
        body: JSON.stringify(review),
        headers: { 'content-type': 'application/json' },
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text}`);
      const doc = res.json();
      if (doc.apiVersion !== 'admission.k8s.io/v1' || doc.kind !== 'AdmissionReview') throw new Error(`not a review: ${res.text}`);
      return doc.response as AdmissionResponse;
    },
  };
}

// ---- AdmissionReview builders ----

const API_VERSIONS: Record<string, string> = {
  Pod: 'v1',
  PodTemplate: 'v1',
  ReplicationController: 'v1',
  Service: 'v1',
  EphemeralContainers: 'v1',
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  Ingress: 'networking.k8s.io/v1',
  ConfigMap: 'v1',
};
const RESOURCES: Record<string, string> = {
  Pod: 'pods',
  PodTemplate: 'podtemplates',
  ReplicationController: 'replicationcontrollers',
  Service: 'services',
  EphemeralContainers: 'pods',
  Deployment: 'deployments',
  ReplicaSet: 'replicasets',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  Job: 'jobs',
  CronJob: 'cronjobs',
  Role: 'roles',
  ClusterRole: 'clusterroles',
  RoleBinding: 'rolebindings',
  ClusterRoleBinding: 'clusterrolebindings',
  Ingress: 'ingresses',
  ConfigMap: 'configmaps',
};
export const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding']);

export function review(object: K8sObject | null, overrides: Partial<AdmissionRequest> = {}): { apiVersion: string; kind: string; request: AdmissionRequest } {
  const kind = (object?.kind as string | undefined) ?? overrides.kind?.kind ?? 'Pod';
  const apiVersion = API_VERSIONS[kind] ?? 'v1';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const meta = (object?.metadata ?? {}) as { name?: string; namespace?: string };
  const request: AdmissionRequest = {
    uid: randomUUID(),
    kind: { group: group!, version: version!, kind },
    resource: { group: group!, version: version!, resource: RESOURCES[kind] ?? kind.toLowerCase() + 's' },
    ...(meta.name ? { name: meta.name } : {}),
    ...(meta.namespace ? { namespace: meta.namespace } : {}),
    operation: 'CREATE',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    object,
    oldObject: null,
    dryRun: false,
    ...overrides,
  };
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

const POD_SPEC_PATH: Record<string, string[]> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};
export const POD_KINDS = Object.keys(POD_SPEC_PATH);

export function withPodSpec(kind: string, podSpec: Record<string, unknown>, meta: Record<string, unknown> = {}): K8sObject {
  const obj: Record<string, unknown> = {
    apiVersion: API_VERSIONS[kind],
    kind,
    metadata: { name: 'web', namespace: 'team-a', ...meta },
  };
  const p = POD_SPEC_PATH[kind]!;
  let node = obj;
  for (const key of p.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[p[p.length - 1]!] = podSpec;
  return obj as K8sObject;
}

export const privilegedSpec = (image = 'nginx:1.27') => ({
  containers: [{ name: 'app', image, securityContext: { privileged: true } }],
});
export const cleanSpec = (image = 'nginx:1.27') => ({ containers: [{ name: 'app', image }] });

/** One object per subject kind that the defender set flags, with the policy that fires. */
export function badObjects(namespace = 'team-a'): { kind: string; object: K8sObject; policy: string }[] {
  const out: { kind: string; object: K8sObject; policy: string }[] = POD_KINDS.map((kind) => ({
    kind,
    object: withPodSpec(kind, privilegedSpec(), { namespace }),
    policy: 'privileged-container',
  }));
  const rbac = 'rbac.authorization.k8s.io/v1';
  const everything = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];
  const clusterAdmin = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' };
  out.push(
    {
      kind: 'EphemeralContainers',
      object: {
        apiVersion: 'v1',
        kind: 'EphemeralContainers',
        metadata: { name: 'web', namespace },
        ephemeralContainers: [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }],
      },
      policy: 'privileged-container',
    },
    { kind: 'Role', object: { apiVersion: rbac, kind: 'Role', metadata: { name: 'r', namespace }, rules: everything }, policy: 'high-privilege-role' },
    { kind: 'ClusterRole', object: { apiVersion: rbac, kind: 'ClusterRole', metadata: { name: 'cr' }, rules: everything }, policy: 'high-privilege-role' },
    {
      kind: 'RoleBinding',
      object: { apiVersion: rbac, kind: 'RoleBinding', metadata: { name: 'rb', namespace }, roleRef: clusterAdmin, subjects: [{ kind: 'User', name: 'bob' }] },
      policy: 'cluster-admin-binding',
    },
    {
      kind: 'ClusterRoleBinding',
      object: { apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: 'crb' }, roleRef: clusterAdmin, subjects: [{ kind: 'User', name: 'bob' }] },
      policy: 'cluster-admin-binding',
    },
    {
      kind: 'Service',
      object: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kubernetes-dashboard', namespace },
        spec: { type: 'LoadBalancer', selector: { app: 'kubernetes-dashboard' }, ports: [{ port: 443 }] },
      },
      policy: 'exposed-dashboard',
    },
    {
      kind: 'Ingress',
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'dash', namespace },
        spec: {
          rules: [
            {
              host: 'dash.example.com',
              http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'kubernetes-dashboard', port: { number: 443 } } } }] },
            },
          ],
        },
      },
      policy: 'exposed-dashboard',
    },
  );
  return out;
}

/** One harmless object per subject kind. */
export function goodObjects(namespace = 'team-a'): { kind: string; object: K8sObject }[] {
  const out: { kind: string; object: K8sObject }[] = POD_KINDS.map((kind) => ({ kind, object: withPodSpec(kind, cleanSpec(), { namespace }) }));
  const rbac = 'rbac.authorization.k8s.io/v1';
  const view = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }];
  const viewRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' };
  out.push(
    {
      kind: 'EphemeralContainers',
      object: {
        apiVersion: 'v1',
        kind: 'EphemeralContainers',
        metadata: { name: 'web', namespace },
        ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
      },
    },
    { kind: 'Role', object: { apiVersion: rbac, kind: 'Role', metadata: { name: 'r', namespace }, rules: view } },
    { kind: 'ClusterRole', object: { apiVersion: rbac, kind: 'ClusterRole', metadata: { name: 'cr' }, rules: view } },
    {
      kind: 'RoleBinding',
      object: { apiVersion: rbac, kind: 'RoleBinding', metadata: { name: 'rb', namespace }, roleRef: viewRef, subjects: [{ kind: 'User', name: 'bob' }] },
    },
    {
      kind: 'ClusterRoleBinding',
      object: { apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: 'crb' }, roleRef: viewRef, subjects: [{ kind: 'User', name: 'bob' }] },
    },
    {
      kind: 'Service',
      object: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace },
        spec: { type: 'ClusterIP', selector: { app: 'web' }, ports: [{ port: 80 }] },
      },
    },
    {
      kind: 'Ingress',
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'web', namespace },
        spec: {
          rules: [
            { host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } },
          ],
        },
      },
    },
  );
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The value of one Prometheus sample line, e.g. `bulwark_admission_requests_total{operation="CREATE",kind="Pod",result="denied"}`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([^{\s]+)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const pair of (m[3] ?? '').match(/(\w+)="((?:[^"\\]|\\.)*)"/g) ?? []) {
      const eq = pair.indexOf('=');
      got[pair.slice(0, eq)] = pair.slice(eq + 2, -1);
    }
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) {
      total += Number(m[4]);
      found = true;
    }
  }
  return found ? total : 0;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServeProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr(): string;
}

/**
 * `bulwark serve ARGS` as a process (dist/ must be built), from a temporary folder: the default
 * store (./data/bulwark.db) must never be the user's own. `children` collects it for cleanup.
 */
export function serveProcess(args: string[], children: ChildProcess[], env: Record<string, string> = {}): ServeProcess {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-serve-'));
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/bulwark.js'), 'serve', ...args], {
    cwd,
    env: { ...process.env, BULWARK_LOG_LEVEL: 'info', KUBECONFIG: '', HOME: cwd, KUBERNETES_SERVICE_HOST: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

/** The port of a `serve` started with --port 0, from its listening line. */
export async function listeningPort(proc: ServeProcess): Promise<number> {
  await waitFor(() => /"msg":"listening on /.test(proc.stderr()), 10_000, 'the listening line');
  const line = proc
    .stderr()
    .split('\n')
    .find((l) => l.includes('listening on'))!;
  return Number(/"port":(\d+)/.exec(line)![1]);
}
