// End to end against a real kube-apiserver v1.20.2 + etcd + kube-controller-manager on loopback
// (test/e2e/cluster.sh), with Bulwark started from the built CLI exactly as a user runs it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartDir, helm, kubectlBinary } from '../support/helm.js';
import { isRequestReceivedLine, skimLine } from '../../audit/skim.js';
import { skimmedFieldsOf } from '../audit/helpers.js';
import { AuditAnalyser } from '../../audit/analyser.js';
import type { AuditEvent } from '../../audit/event.js';
import { defaultConfig } from '../../config/load.js';

const root = resolve(__dirname, '../..');
const cluster = join(root, 'test/e2e/cluster.sh');
const BULWARK_PORT = Number(process.env.BULWARK_E2E_WEBHOOK_PORT ?? 18443);
const API_PORT = Number(process.env.BULWARK_E2E_ALERTS_PORT ?? 18444);
/** api.cacheTTL of the e2e configuration: how long a revoked credential may keep working. */
const CACHE_TTL_S = 2;
/** anomaly.learningPeriod of the e2e configuration. */
const LEARNING_S = 4;
const APISERVER_PORT = Number(process.env.BULWARK_E2E_APISERVER_PORT ?? 16443);
/** kube-apiserver caches successful token authentications this long (its default). */
const APISERVER_TOKEN_CACHE_S = 10;

type Obj = Record<string, any>;

let dir: string;
let bulwark: ChildProcess | undefined;
let bulwarkLog = '';

function kubectl(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(kubectlBinary(), ['--kubeconfig', join(dir, 'kubeconfig'), ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function bulwarkCli(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/bulwark.js'), ...args], { input, encoding: 'utf8', timeout: 120_000, cwd: dir });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function writeConfig(mode: 'enforce' | 'warn'): string {
  const file = join(dir, `config-${mode}.yaml`);
  writeFileSync(
    file,
    `profiles: [defender]
defaultAction: ${mode}
exemptions:
  namespaces: [bulwark-system]
mutations: [seccomp-runtime-default, no-privilege-escalation, drop-all-capabilities]
store:
  url: sqlite:${join(dir, 'alerts.db')}
api:
  port: ${API_PORT}
  address: 127.0.0.1
  auth: kubernetes
  kubeconfig: ${join(dir, 'kubeconfig')}
  # bulwark: ServiceAccount tokens minted for Bulwark; the API server's own audience: the readers'
  # tokens come from its static token file, which is valid for that audience only.
  audiences: [bulwark, https://kubernetes.default.svc]
  cacheTTL: ${CACHE_TTL_S}s
# threat-intel-source: a documentation block (RFC 5737) stands for a TOR exit list.
intel:
  files: [intel.txt]
# serviceaccount-rare-operation learns for a few seconds here (7 days by default); the controller
# manager's own service accounts (--use-service-account-credentials) are a common exception.
anomaly:
  learningPeriod: ${LEARNING_S}s
  syncInterval: 1s
exceptions:
  serviceaccount-rare-operation:
    - namespaces: [kube-system]
`,
  );
  writeFileSync(join(dir, 'intel.txt'), '# e2e intel list\n203.0.113.0/24\n');
  return file;
}

async function get(url: string): Promise<number> {
  return new Promise((resolveCode) => {
    const req = request(url, { ca: readFileSync(join(dir, 'pki-bulwark/ca.crt')), timeout: 2000 }, (res) => {
      res.resume();
      resolveCode(res.statusCode ?? 0);
    });
    req.on('error', () => resolveCode(0));
    req.end();
  });
}

/** `bulwark serve` with the e2e's serving certificate, from the e2e folder; `extra` adds flags. */
function spawnServe(config: string, port: number | string, extra: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const args = [
    'serve',
    '--config',
    config,
    '--port',
    String(port),
    '--tls-cert',
    join(dir, 'pki-bulwark/tls.crt'),
    '--tls-key',
    join(dir, 'pki-bulwark/tls.key'),
  ];
  return spawn(process.execPath, [join(root, 'bin/bulwark.js'), ...args, ...extra], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env });
}

async function startBulwark(mode: 'enforce' | 'warn'): Promise<void> {
  bulwark = spawnServe(writeConfig(mode), BULWARK_PORT, ['--kubeconfig', join(dir, 'kubeconfig'), '--client-ca', join(dir, 'pki-bulwark/client-ca.crt')]);
  bulwark.stdout!.on('data', (d: Buffer) => (bulwarkLog += d.toString()));
  bulwark.stderr!.on('data', (d: Buffer) => (bulwarkLog += d.toString()));
  for (let i = 0; i < 100; i++) {
    if ((await get(`https://127.0.0.1:${BULWARK_PORT}/readyz`)) === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`bulwark did not become ready:\n${bulwarkLog}`);
}

async function stopBulwark(): Promise<void> {
  if (!bulwark || bulwark.exitCode !== null) return;
  const exited = new Promise((r) => bulwark!.once('exit', r));
  bulwark.kill('SIGTERM');
  await exited;
}

const ALERT_RBAC = [
  { kind: 'ClusterRole', metadata: { name: 'bulwark-security-reader' }, rules: [{ apiGroups: ['bulwark.io'], resources: ['alerts'], verbs: ['get', 'list'] }] },
  {
    kind: 'ClusterRole',
    metadata: { name: 'bulwark-security-admin' },
    rules: [{ apiGroups: ['bulwark.io'], resources: ['alerts'], verbs: ['get', 'list', 'update'] }],
  },
  {
    kind: 'ClusterRoleBinding',
    metadata: { name: 'security-readers' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'bulwark-security-reader' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'security-readers' }],
  },
  {
    kind: 'ClusterRoleBinding',
    metadata: { name: 'security-admins' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'bulwark-security-admin' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'security-admins' }],
  },
]
  .map((o) => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', ...o }))
  .join('\n');

const token = (who: 'reader' | 'secadmin' | 'admin') => readFileSync(join(dir, `${who}.token`), 'utf8').trim();

/** One request to the API server as a client of our choosing: its token, user agent and X-Forwarded-For. */
function apiCall(
  method: string,
  path: string,
  opts: { token: string; userAgent: string; forwardedFor?: string; body?: unknown },
): Promise<{ status: number; text: string }> {
  return new Promise((resolveCall, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        host: '127.0.0.1',
        port: APISERVER_PORT,
        method,
        path,
        ca: readFileSync(join(dir, 'pki/ca.crt')),
        headers: {
          Authorization: `Bearer ${opts.token}`,
          'User-Agent': opts.userAgent,
          Accept: 'application/json',
          ...(opts.forwardedFor ? { 'X-Forwarded-For': opts.forwardedFor } : {}),
          ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolveCall({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The stored alerts of `type`, read through the alerts API as the security reader, once `ok` holds for them (up to ~20 s). */
async function waitForAlerts(type: string, ok: (items: Obj[]) => boolean): Promise<Obj[]> {
  let items: Obj[] = [];
  let last = { code: 0, stdout: '', stderr: '' };
  for (let i = 0; i < 40; i++) {
    last = bulwarkCli([
      'alerts',
      '--server',
      `https://127.0.0.1:${API_PORT}`,
      '--token',
      token('reader'),
      '--ca',
      join(dir, 'pki-bulwark/ca.crt'),
      'list',
      '--type',
      type,
      '--format',
      'json',
    ]);
    if (last.code === 0) {
      items = ((JSON.parse(last.stdout) as Obj).items ?? []) as Obj[];
      if (ok(items)) return items;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no ${type} alert as expected: ${last.stderr}${JSON.stringify(items).slice(0, 1500)}\nbulwark log tail:\n${bulwarkLog.slice(-3000)}`);
}

const privilegedPod = (name: string, ns: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'shell', image: 'busybox:1.36', securityContext: { privileged: true } }] },
  });

/** A pod-template workload (Deployment, DaemonSet) labelled app=<name>, as JSON for kubectl. */
const workload = (kind: 'Deployment' | 'DaemonSet', name: string, ns: string, podSpec: Obj) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { automountServiceAccountToken: false, ...podSpec } },
    },
  });

const dockerSockDeployment = (name: string, ns: string) =>
  workload('Deployment', name, ns, {
    containers: [{ name: 'agent', image: 'example.com/agent:1', volumeMounts: [{ name: 'sock', mountPath: '/var/run/docker.sock' }] }],
    volumes: [{ name: 'sock', hostPath: { path: '/var/run/docker.sock' } }],
  });

const clusterAdminBinding = (name: string) =>
  JSON.stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'mallory' }],
  });

function waitForServiceAccount(ns: string): void {
  for (let i = 0; i < 60; i++) {
    if (kubectl(['-n', ns, 'get', 'serviceaccount', 'default']).code === 0) return;
    execFileSync('sleep', ['0.5']);
  }
  throw new Error(`no default service account in ${ns}`);
}

describe('Bulwark against a real kube-apiserver', () => {
  beforeAll(async () => {
    execFileSync('bash', [cluster, 'build'], { stdio: 'inherit', timeout: 1_500_000 });
    dir = mkdtempSync(join(tmpdir(), 'bulwark-e2e-'));
    // Bulwark's certificates and the API server's side of mTLS, as an administrator makes them:
    // the API server presents the client certificate in the generated kubeconfigs, on both the
    // admission webhooks and the audit webhook, and Bulwark requires it (--client-ca).
    const certs = bulwarkCli([
      'certs',
      '--out-dir',
      join(dir, 'pki-bulwark'),
      '--san',
      'localhost,127.0.0.1',
      '--apiserver-config',
      join(dir, 'apiserver'),
      '--apiserver-config-path',
      join(dir, 'apiserver'),
      '--url',
      `https://127.0.0.1:${BULWARK_PORT}`,
    ]);
    expect(certs.code, certs.stderr).toBe(0);
    // The chart's policy omits the RequestReceived stage; here the API server logs it, so that the
    // reader's shortcut for those lines is checked against what a real API server writes.
    const policyFile = join(dir, 'apiserver/audit-policy.yaml');
    const policy = readFileSync(policyFile, 'utf8');
    expect(policy).toMatch(/^omitStages: \[RequestReceived\]/m);
    writeFileSync(policyFile, policy.replace(/^omitStages: \[RequestReceived\].*$/m, ''));
    execFileSync('bash', [cluster, 'start', dir], {
      stdio: 'inherit',
      timeout: 180_000,
      env: {
        ...process.env,
        BULWARK_E2E_AUDIT_WEBHOOK_CONFIG: join(dir, 'apiserver/audit-webhook-kubeconfig.yaml'),
        BULWARK_E2E_ADMISSION_CONFIG: join(dir, 'apiserver/admission-config.yaml'),
        BULWARK_E2E_AUDIT_POLICY: join(dir, 'apiserver/audit-policy.yaml'),
      },
    });
    for (const ns of ['team-a', 'team-w']) expect(kubectl(['create', 'namespace', ns]).code).toBe(0);
    expect(kubectl(['label', 'namespace', 'team-w', 'bulwark.io/mode=warn']).code).toBe(0);
    // The alerts API asks the API server (TokenReview, SubjectAccessReview): RBAC decides who reads and who dismisses.
    expect(kubectl(['apply', '-f', '-'], ALERT_RBAC).code).toBe(0);
    waitForServiceAccount('team-a');
    waitForServiceAccount('team-w');
    await startBulwark('enforce');
  }, 1_800_000);

  afterAll(async () => {
    await stopBulwark();
    if (dir && existsSync(dir)) {
      spawnSync('bash', [cluster, 'stop', dir], { stdio: 'inherit' });
      if (!process.env.BULWARK_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('registers the webhooks, idempotently', () => {
    const args = [
      'register',
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--url',
      `https://127.0.0.1:${BULWARK_PORT}`,
      '--ca-file',
      join(dir, 'pki-bulwark/ca.crt'),
      '--mutate',
    ];
    const first = bulwarkCli(args);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/validatingwebhookconfiguration\/bulwark created/);
    const second = bulwarkCli(args);
    expect(second.stdout).toMatch(/validatingwebhookconfiguration\/bulwark unchanged/);
    expect(second.stdout).toMatch(/mutatingwebhookconfiguration\/bulwark-mutate unchanged/);
  });

  it('denies a privileged pod, a docker.sock Deployment and a cluster-admin binding with [policy-id] lines', () => {
    const pod = kubectl(['create', '-f', '-'], privilegedPod('priv', 'team-a'));
    expect(pod.code).not.toBe(0);
    expect(pod.stderr).toMatch(/admission webhook "validate.bulwark.io" denied the request/);
    expect(pod.stderr).toMatch(/\[privileged-container\] container "shell"/);
    const deploy = kubectl(['create', '-f', '-'], dockerSockDeployment('sock', 'team-a'));
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toMatch(/\[sensitive-host-mount\]/);
    const crb = kubectl(['create', '-f', '-'], clusterAdminBinding('mallory-admin'));
    expect(crb.code).not.toBe(0);
    expect(crb.stderr).toMatch(/\[cluster-admin-binding\]/);
    expect(kubectl(['-n', 'team-a', 'get', 'pod', 'priv']).code).not.toBe(0);
  });

  it('admits the same in audit-only warning mode, and kubectl prints the warnings', () => {
    const pod = kubectl(['create', '-f', '-'], privilegedPod('priv', 'team-w'));
    expect(pod.code).toBe(0);
    expect(pod.stderr).toMatch(/Warning: \[privileged-container\] container "shell"/);
    const deploy = kubectl(['create', '-f', '-'], dockerSockDeployment('sock', 'team-w'));
    expect(deploy.code).toBe(0);
    expect(deploy.stderr).toMatch(/Warning: \[sensitive-host-mount\]/);
    expect(kubectl(['-n', 'team-w', 'get', 'pod', 'priv']).code).toBe(0);
  });

  it('answers a dry-run create the same way and records no alert for it', async () => {
    const before = bulwarkLog.split('\n').filter((l) => l.includes('"dry-run-probe"')).length;
    const r = kubectl(['create', '--dry-run=server', '-f', '-'], privilegedPod('dry-run-probe', 'team-a'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\[privileged-container\]/);
    await new Promise((res) => setTimeout(res, 500));
    const alertLines = bulwarkLog.split('\n').filter((l) => l.includes('"dry-run-probe"') && l.includes('"alert"'));
    expect(alertLines.length).toBe(before);
  });

  it('hardens a Deployment through /mutate, and the stored object shows it', () => {
    const plain = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'plain', namespace: 'team-a' },
      spec: {
        selector: { matchLabels: { app: 'plain' } },
        template: { metadata: { labels: { app: 'plain' } }, spec: { automountServiceAccountToken: false, containers: [{ name: 'web', image: 'nginx:1.27' }] } },
      },
    });
    expect(kubectl(['create', '-f', '-'], plain).code).toBe(0);
    const stored = JSON.parse(kubectl(['-n', 'team-a', 'get', 'deployment', 'plain', '-o', 'json']).stdout) as Obj;
    const spec = stored.spec.template.spec;
    expect(spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(spec.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(stored.metadata.annotations['bulwark.io/mutated']).toMatch(/seccomp-runtime-default/);
  });

  it('raises the expected alerts from the audit log file and from the audit webhook backend', async () => {
    const logFile = join(dir, 'log/audit.log');
    const scan = bulwarkCli(['audit', 'scan', '--format', 'ndjson', logFile]);
    expect(scan.code).toBe(0);
    const alerts = scan.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Obj);
    const types = new Set(alerts.map((a) => a.type));
    expect(types).toContain('privileged-container');
    expect(types).toContain('sensitive-host-mount');
    // The reader counts RequestReceived lines without parsing them: exactly those, as this API server writes them.
    // It skims completed requests: what it reads is what JSON.parse reads, bodies or not.
    let received = 0;
    let skimmed = 0;
    let skimmedWithBody = 0;
    const logLines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
    for (const line of logLines) {
      const ev = JSON.parse(line) as Obj;
      expect(isRequestReceivedLine(line), line.slice(0, 200)).toBe(ev.stage === 'RequestReceived');
      if (ev.stage === 'RequestReceived') received++;
      const s = skimLine(line);
      if (s === undefined) continue;
      skimmed++;
      if (ev.requestObject !== undefined || ev.responseObject !== undefined) skimmedWithBody++;
      expect(s, line.slice(0, 200)).toEqual(skimmedFieldsOf(ev));
      expect(ev.stage).toBe('ResponseComplete');
      expect(ev.impersonatedUser).toBeUndefined();
    }
    expect(received).toBeGreaterThan(0);
    expect(skimmed).toBeGreaterThan(logLines.length / 4);
    expect(skimmedWithBody).toBeGreaterThan(0);
    // And the lines the analyser skips are lines whose analysis raises nothing and changes nothing.
    const skipping = new AuditAnalyser({ config: defaultConfig() });
    const parsing = new AuditAnalyser({ config: defaultConfig() });
    const fromSkipping: string[] = [];
    const fromParsing: string[] = [];
    let skipped = 0;
    for (const line of logLines) {
      if (skipping.skipLine(line)) skipped++;
      else for (const a of skipping.analyse(JSON.parse(line) as AuditEvent)) fromSkipping.push(`${a.type} ${a.fingerprint} ${a.message}`);
      for (const a of parsing.analyse(JSON.parse(line) as AuditEvent)) fromParsing.push(`${a.type} ${a.fingerprint} ${a.message}`);
    }
    expect(fromSkipping).toEqual(fromParsing);
    expect(skipping.stats).toEqual(parsing.stats);
    expect(skipped).toBeGreaterThan(received);
    const priv = alerts.find((a) => a.type === 'privileged-container')!;
    expect(priv).toMatchObject({ source: 'audit', namespace: 'team-w', user: { username: 'e2e-admin' } });
    // The webhook backend batches within a second; its alerts reach the store through POST /audit.
    // The warn-mode admission alert and the audit occurrence are one incident: the store merges them
    // (same type, resource, namespace, user), and the audit event's auditID shows the backend's part.
    const fromBackend = (await waitForAlerts('privileged-container', (a) => a.some((x) => x.namespace === 'team-w' && x.auditIDs.length > 0))).filter(
      (a) => a.namespace === 'team-w' && a.auditIDs.length > 0,
    );
    expect(fromBackend.length).toBeGreaterThan(0);
    // Sent over mTLS by the API server itself: not marked as anyone-could-have-sent-it.
    expect(fromBackend.every((a) => a.verified !== false)).toBe(true);
  });

  it('detections of #12 from the real audit webhook: a stolen service-account token, its rare operation, a listed source address, system RBAC and kube-system service accounts, an ephemeral container, an exposed Redis', async () => {
    const KUBECTL_UA = 'kubectl/v1.20.2 (linux/amd64) kubernetes/faecb19';
    const BOT_UA = 'e2e-bot/1.0 (linux/amd64) kubernetes/$Format';
    const bot = 'system:serviceaccount:team-a:e2e-bot';
    expect(kubectl(['-n', 'team-a', 'create', 'serviceaccount', 'e2e-bot']).code).toBe(0);
    const minted = kubectl(['-n', 'team-a', 'create', 'token', 'e2e-bot']);
    expect(minted.code, minted.stderr).toBe(0);
    const botToken = minted.stdout.trim();
    // Learning: the workload's own discovery call, then its token asks what it may do from kubectl.
    expect((await apiCall('GET', '/api', { token: botToken, userAgent: BOT_UA })).status).toBe(200);
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'list', resource: 'secrets' } },
    };
    expect(
      (await apiCall('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { token: botToken, userAgent: KUBECTL_UA, body: review })).status,
    ).toBe(201);
    // Past the learning period (event time is the API server's clock): an operation it never did.
    await new Promise((r) => setTimeout(r, (LEARNING_S + 1.5) * 1000));
    expect((await apiCall('GET', '/apis', { token: botToken, userAgent: BOT_UA })).status).toBe(200);
    // A request through a proxy that names a listed address; system RBAC changed; a service account in kube-system; a public Redis.
    expect(
      (await apiCall('GET', '/api/v1/namespaces/team-a/configmaps', { token: token('admin'), userAgent: KUBECTL_UA, forwardedFor: '203.0.113.9' })).status,
    ).toBe(200);
    expect(kubectl(['label', 'clusterrole', 'system:basic-user', 'e2e=touched']).code).toBe(0);
    expect(kubectl(['-n', 'kube-system', 'create', 'serviceaccount', 'sneaky']).code).toBe(0);
    const redis = kubectl(['-n', 'team-w', 'create', 'service', 'loadbalancer', 'redis', '--tcp=6379:6379']);
    expect(redis.code, redis.stderr).toBe(0);
    // kubectl debug as 1.20 serves it (EphemeralContainers, an alpha gate cluster.sh turns on): the
    // EphemeralContainers kind on the pods/ephemeralcontainers subresource.
    const target = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug-target', namespace: 'team-w' },
      spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'busybox:1.36' }] },
    });
    expect(kubectl(['apply', '-f', '-'], target).code).toBe(0);
    const debug = await apiCall('PUT', '/api/v1/namespaces/team-w/pods/debug-target/ephemeralcontainers', {
      token: token('admin'),
      userAgent: KUBECTL_UA,
      body: {
        apiVersion: 'v1',
        kind: 'EphemeralContainers',
        metadata: { name: 'debug-target', namespace: 'team-w' },
        ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36', command: ['sh'], stdin: true, tty: true, targetContainerName: 'app' }],
      },
    });
    expect(debug.status, debug.text).toBe(200);

    const misuse = await waitForAlerts('serviceaccount-token-misuse', (a) => a.some((x) => x.user.username === bot));
    expect(misuse.find((x) => x.user.username === bot)).toMatchObject({
      severity: 'high',
      source: 'audit',
      namespace: 'team-a',
      resource: { kind: 'ServiceAccount', name: 'e2e-bot' },
      userAgent: KUBECTL_UA,
      evidence: { signs: ['self-review', 'human-client'], client: 'kubectl', baseline: 'learning' },
    });
    const rare = await waitForAlerts('serviceaccount-rare-operation', (a) => a.some((x) => x.user.username === bot));
    // Only the one operation it never did: /api and the self review were learned.
    expect(rare.filter((x) => x.user.username === bot).map((x) => x.evidence.operation)).toEqual(['get /apis']);
    const intel = await waitForAlerts('threat-intel-source', (a) => a.length > 0);
    expect(intel[0]).toMatchObject({ severity: 'high', user: { username: 'e2e-admin' } });
    expect(intel[0]!.sourceIPs).toContain('203.0.113.9');
    const rbac = await waitForAlerts('system-clusterrole-modified', (a) => a.some((x) => x.resource.name === 'system:basic-user'));
    expect(rbac.find((x) => x.resource.name === 'system:basic-user')).toMatchObject({ user: { username: 'e2e-admin' } });
    const sa = await waitForAlerts('serviceaccount-in-kube-namespace', (a) => a.some((x) => x.resource.name === 'sneaky'));
    expect(sa.find((x) => x.resource.name === 'sneaky')).toMatchObject({ namespace: 'kube-system' });
    const ephemeral = await waitForAlerts('ephemeral-container-added', (a) => a.some((x) => x.resource.name === 'debug-target'));
    expect(ephemeral.find((x) => x.resource.name === 'debug-target')).toMatchObject({ namespace: 'team-w', user: { username: 'e2e-admin' } });
    expect(kubectl(['-n', 'team-w', 'delete', 'pod', 'debug-target', '--wait=false']).code).toBe(0);
    const exposed = await waitForAlerts('exposed-service', (a) => a.some((x) => x.resource.name === 'redis'));
    expect(exposed.find((x) => x.resource.name === 'redis')).toMatchObject({ namespace: 'team-w' });

    // What the baseline learned is in the store (anomaly.syncInterval 1s), as `bulwark anomaly status` reads it.
    let status = { code: 0, stdout: '', stderr: '' };
    for (let i = 0; i < 20; i++) {
      status = bulwarkCli(['anomaly', 'status', '-c', join(dir, 'config-enforce.yaml'), '--account', bot, '-o', 'json']);
      if (status.code === 0 && (JSON.parse(status.stdout) as Obj).operations.length >= 3) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      account: bot,
      state: 'judging',
      operations: ['create authorization.k8s.io/selfsubjectaccessreviews cluster-wide', 'get /api', 'using kubectl'],
    });
  }, 60_000);

  it("answers 401 to reviews and audit batches from anyone without the API server's client certificate", async () => {
    const post = (path: string) =>
      new Promise<number>((done, fail) => {
        const req = request(
          `https://127.0.0.1:${BULWARK_PORT}${path}`,
          { method: 'POST', ca: readFileSync(join(dir, 'pki-bulwark/ca.crt')), headers: { 'content-type': 'application/json' }, timeout: 5000 },
          (res) => {
            res.resume();
            done(res.statusCode ?? 0);
          },
        );
        req.on('error', fail);
        req.end(JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'EventList', items: [] }));
      });
    expect(await post('/audit')).toBe(401);
    expect(await post('/validate')).toBe(401);
    expect(await get(`https://127.0.0.1:${BULWARK_PORT}/healthz`)).toBe(200);
  });

  it('lets a security reader list alerts and only a security admin dismiss them, as Kubernetes RBAC says', () => {
    const api = (who: 'reader' | 'secadmin' | undefined, args: string[]) =>
      bulwarkCli([
        'alerts',
        '--server',
        `https://127.0.0.1:${API_PORT}`,
        ...(who ? ['--token', token(who)] : ['--token', 'not-a-token']),
        '--ca',
        join(dir, 'pki-bulwark/ca.crt'),
        ...args,
      ]);
    const list = api('reader', ['list', '--type', 'privileged-container', '--format', 'json']);
    expect(list.code, list.stderr).toBe(0);
    const id = (JSON.parse(list.stdout) as Obj).items[0].id as string;
    const asReader = api('reader', ['dismiss', id, '--reason', 'test pod']);
    expect(asReader.code).toBe(1);
    expect(asReader.stderr).toMatch(/403|forbidden|not allowed/i);
    expect(api(undefined, ['list']).stderr).toMatch(/401|unauthori[sz]ed|authenticat/i);
    const asAdmin = api('secadmin', ['dismiss', id, '--reason', 'test pod', '--format', 'json']);
    expect(asAdmin.code, asAdmin.stderr).toBe(0);
    const after = JSON.parse(api('reader', ['get', id, '--format', 'json']).stdout) as Obj;
    expect(after.status).toBe('dismissed');
    expect(after.history.at(-1)).toMatchObject({ to: 'dismissed', by: 'sam', reason: 'test pod' });
  });

  it('accepts a ServiceAccount token minted for Bulwark, refuses one for another audience, and forgets a deleted one within cacheTTL', async () => {
    expect(kubectl(['-n', 'team-a', 'create', 'serviceaccount', 'alerts-bot']).code).toBe(0);
    expect(
      kubectl(['create', 'clusterrolebinding', 'alerts-bot', '--clusterrole', 'bulwark-security-reader', '--serviceaccount', 'team-a:alerts-bot']).code,
    ).toBe(0);
    const mint = (audience: string) => {
      const r = kubectl(['-n', 'team-a', 'create', 'token', 'alerts-bot', '--audience', audience]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    const list = (tok: string) =>
      bulwarkCli(['alerts', '--server', `https://127.0.0.1:${API_PORT}`, '--token', tok, '--ca', join(dir, 'pki-bulwark/ca.crt'), 'list', '--format', 'json']);
    const forBulwark = mint('bulwark');
    const ok = list(forBulwark);
    expect(ok.code, ok.stderr).toBe(0);
    const forVault = list(mint('vault'));
    expect(forVault.code).not.toBe(0);
    expect(forVault.stderr).toMatch(/401|not valid/i);
    // Deleting the ServiceAccount invalidates its tokens at the API server, which itself keeps a
    // successful token authentication for 10 s (kube-apiserver's default token cache); Bulwark's
    // answer lasts cacheTTL more at most: the bound docs/install-hardening.md documents.
    expect(kubectl(['-n', 'team-a', 'delete', 'serviceaccount', 'alerts-bot']).code).toBe(0);
    const deadline = Date.now() + (APISERVER_TOKEN_CACHE_S + CACHE_TTL_S) * 1000 + 1000;
    let revoked = list(forBulwark);
    while (revoked.code === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      revoked = list(forBulwark);
    }
    expect(revoked.code, "the deleted ServiceAccount's token still works after the documented bound").not.toBe(0);
    expect(revoked.stderr).toMatch(/401|not valid/i);
  });

  it('stops accepting a token removed from its token file within the documented second', async () => {
    const tokens = join(dir, 'bulwark-tokens.csv');
    writeFileSync(tokens, 'keep-token-1,keeper,u-1,security-readers\ngone-token-2,leaver,u-2,security-readers\n', { mode: 0o600 });
    const config = join(dir, 'config-tokens.yaml');
    writeFileSync(
      config,
      `store: {url: 'sqlite:${join(dir, 'tokens.db')}'}\napi: {port: 0, address: 127.0.0.1, tokenFile: ${tokens}, roles: {reader: [security-readers]}}\n`,
    );
    const child = spawnServe(config, 0, ['--address', '127.0.0.1', '--no-kube']);
    let log = '';
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      let url = '';
      for (let i = 0; i < 100 && !url; i++) {
        url = /"url":"(https:\/\/[^"]+)","auth":"tokens"/.exec(log)?.[1] ?? '';
        if (!url) await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, log).toMatch(/^https:/);
      const list = (tok: string) =>
        bulwarkCli([
          'alerts',
          '--server',
          url.replace('localhost', '127.0.0.1'),
          '--token',
          tok,
          '--ca',
          join(dir, 'pki-bulwark/ca.crt'),
          'list',
          '--format',
          'json',
        ]);
      expect(list('gone-token-2').code).toBe(0);
      writeFileSync(tokens, 'keep-token-1,keeper,u-1,security-readers\n');
      await new Promise((r) => setTimeout(r, 1100));
      expect(list('gone-token-2').code).not.toBe(0);
      expect(list('keep-token-1').code).toBe(0);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('lets everything through once unregistered', () => {
    const r = bulwarkCli(['register', '--kubeconfig', join(dir, 'kubeconfig'), '--unregister']);
    expect(r.stdout).toMatch(/validatingwebhookconfiguration\/bulwark deleted/);
    expect(kubectl(['create', '-f', '-'], privilegedPod('after-unregister', 'team-a')).code).toBe(0);
  });

  it('background scan: what ran before it started is in the PolicyReports and alerts; a fix and a delete follow; scan --cluster agrees', async () => {
    const ns = 'team-bg';
    const home = 'bulwark-bg';
    for (const n of [ns, home]) expect(kubectl(['create', 'namespace', n]).code).toBe(0);
    // The PolicyReport CRDs, as the chart and `bulwark manifests` ship them.
    const crds = kubectl(['apply', '-f', join(root, 'charts/bulwark/crds')]);
    expect(crds.code, crds.stderr).toBe(0);
    const restricted = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
    const deploymentOf = (name: string, securityContext: Obj) =>
      workload('Deployment', name, ns, { containers: [{ name: 'app', image: 'registry.example.com/app:1.0', securityContext }] });
    // Objects that exist before the scanner starts (no webhook is registered now).
    expect(kubectl(['apply', '-f', '-'], deploymentOf('priv', { privileged: true })).code).toBe(0);
    expect(kubectl(['apply', '-f', '-'], deploymentOf('clean', restricted)).code).toBe(0);
    const daemonSet = workload('DaemonSet', 'agent', ns, {
      containers: [{ name: 'agent', image: 'registry.example.com/agent:1', volumeMounts: [{ name: 'root', mountPath: '/host' }] }],
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
    });
    expect(kubectl(['apply', '-f', '-'], daemonSet).code).toBe(0);
    expect(kubectl(['create', '-f', '-'], clusterAdminBinding('bg-admin')).code).toBe(0);

    // On the suite's PostgreSQL when there is one (CI): a store the replicas share, so they also
    // hold the maintenance Lease between them on this API server. Else a SQLite file.
    const pgUrl = process.env.BULWARK_TEST_POSTGRES_URL;
    let storeUrl = `sqlite:${join(dir, 'bg.db')}`;
    const schema = `e2e_${process.pid}_${Date.now().toString(36)}`;
    if (pgUrl) {
      const pg = (await import('pg')).default;
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const u = new URL(pgUrl);
      u.searchParams.set('options', `-c search_path=${schema}`);
      storeUrl = u.toString();
    }
    const maintenanceHolder = () =>
      (JSON.parse(kubectl(['-n', home, 'get', 'lease', 'bulwark-maintenance', '-o', 'json', '--ignore-not-found']).stdout || '{}') as Obj).spec
        ?.holderIdentity as string | undefined;
    const config = join(dir, 'config-bg.yaml');
    writeFileSync(
      config,
      `profiles: [defender]\ndefaultAction: enforce\nstore:\n  url: '${storeUrl}'\nbackgroundScan:\n  enabled: true\n  debounce: 1s\n` +
        `api:\n  port: 0\n  tokenFile: ${join(dir, 'bg-tokens.csv')}\n  roles: {admin: [], reader: [security-readers]}\n`,
    );
    writeFileSync(join(dir, 'bg-tokens.csv'), 'bg-reader-token-91c2,rita,u1,security-readers\n');
    const replica = (name: string) => {
      const child = spawnServe(config, 0, ['--kubeconfig', join(dir, 'kubeconfig')], { ...process.env, POD_NAMESPACE: home, POD_NAME: name });
      const r = { child, log: '', stopped: false };
      child.stdout!.on('data', (d: Buffer) => (r.log += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (r.log += d.toString()));
      return r;
    };
    const stop = async (r: ReturnType<typeof replica>) => {
      if (r.stopped) return;
      r.stopped = true;
      r.child.kill('SIGTERM');
      await new Promise((done) => r.child.once('exit', done));
    };
    const one = replica('bg-replica-1');
    let two: ReturnType<typeof replica> | undefined;
    const log = () => one.log;
    const report = (): Obj | undefined => {
      const r = kubectl(['-n', ns, 'get', 'policyreport', 'bulwark', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined;
    };
    const failing = (r: Obj | undefined): string[] =>
      (r?.results ?? [])
        .filter((x: Obj) => x.result === 'fail')
        .map((x: Obj) => `${x.resources[0].kind}/${x.resources[0].name} ${x.policy}`)
        .sort();
    const waitFor = async (what: string, ok: () => boolean, seconds = 15) => {
      const deadline = Date.now() + seconds * 1000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`${what} within ${seconds} s; bulwark log tail:\n${log().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    try {
      const started = Date.now();
      await waitFor('the PolicyReport of team-bg lists the privileged Deployment and the hostPath DaemonSet', () => {
        const f = failing(report());
        return f.includes('Deployment/priv privileged-container') && f.includes('DaemonSet/agent sensitive-host-mount');
      });
      expect(Date.now() - started, 'reports within 10 s of start').toBeLessThan(10_000 + 3_000);
      const first = report()!;
      expect(first).toMatchObject({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport' });
      expect(failing(first).some((f) => f.startsWith('Deployment/clean '))).toBe(false);
      // The ReplicaSets and pods the controllers made from priv's template are folded into it.
      expect(failing(first).some((f) => f.startsWith('ReplicaSet/') || f.startsWith('Pod/'))).toBe(false);
      const cluster = JSON.parse(kubectl(['get', 'clusterpolicyreport', 'bulwark', '-o', 'json']).stdout) as Obj;
      expect(cluster.results.some((x: Obj) => x.policy === 'cluster-admin-binding' && x.resources[0].name === 'bg-admin')).toBe(true);
      const lease = JSON.parse(kubectl(['-n', home, 'get', 'lease', 'bulwark-background-scan', '-o', 'json']).stdout) as Obj;
      expect(lease.spec.holderIdentity).toBe('bg-replica-1');

      // The console's posture (GET /api/v1/posture) says the same as the reports, and what enforce would deny.
      const apiUrl = /"url":"(https:\/\/[^"]+)","auth":"tokens","msg":"alerts api listening"/.exec(one.log)?.[1];
      expect(apiUrl, one.log.slice(-2000)).toBeDefined();
      const posture = await new Promise<Obj>((done, fail) => {
        const req = request(
          `${apiUrl!.replace('localhost', '127.0.0.1')}/api/v1/posture`,
          { ca: readFileSync(join(dir, 'pki-bulwark/ca.crt')), servername: 'localhost', headers: { authorization: 'Bearer bg-reader-token-91c2' } },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => done(JSON.parse(text) as Obj));
          },
        );
        req.on('error', fail);
        req.end();
      });
      expect(posture).toMatchObject({ enabled: true, ready: true });
      const bg = posture.namespaces.find((n: Obj) => n.namespace === ns);
      expect(bg.fail).toBeGreaterThanOrEqual(2);
      const postureFailing = posture.results.filter((r: Obj) => r.namespace === ns && r.result === 'fail').map((r: Obj) => `${r.kind}/${r.name} ${r.policy}`);
      for (const f of failing(first)) expect(postureFailing).toContain(f);
      const denied = posture.wouldDeny.filter((d: Obj) => d.namespace === ns).map((d: Obj) => `${d.kind}/${d.name}`);
      expect(denied).toEqual(expect.arrayContaining(['Deployment/priv', 'DaemonSet/agent']));
      expect(denied).not.toContain('Deployment/clean');
      expect(posture.namespaces.find((n: Obj) => n.namespace === '').fail).toBeGreaterThanOrEqual(1);

      // `bulwark scan --cluster` says the same of the namespace.
      const scan = bulwarkCli(['scan', '--cluster', '--kubeconfig', join(dir, 'kubeconfig'), '-n', ns, '-o', 'json']);
      expect(scan.code, scan.stderr).toBe(1);
      const scanned = (JSON.parse(scan.stdout) as Obj).results.flatMap((r: Obj) => r.findings.map((f: Obj) => `${r.kind}/${r.name} ${f.policy}`));
      for (const f of failing(first)) expect(scanned).toContain(f);

      // One writer: a second replica runs its informers but does not take the Lease while the first holds it.
      two = replica('bg-replica-2');
      await waitFor('the second replica is serving', () => /listening on https/.test(two!.log));
      await new Promise((r) => setTimeout(r, 3000));
      expect(two.log).not.toMatch(/became the background-scan writer/);
      expect((JSON.parse(kubectl(['-n', home, 'get', 'lease', 'bulwark-background-scan', '-o', 'json']).stdout) as Obj).spec.holderIdentity).toBe(
        'bg-replica-1',
      );
      // On a shared store, the first replica also holds the maintenance Lease; the second waits.
      if (pgUrl) {
        await waitFor('the maintenance Lease is held', () => maintenanceHolder() === 'bg-replica-1');
        expect(one.log).toMatch(/holding the maintenance Lease/);
        expect(two.log).not.toMatch(/holding the maintenance Lease/);
      } else {
        expect(maintenanceHolder()).toBeUndefined();
      }

      // Labelling the namespace enforce, through the webhook: the pods admission would now deny are listed.
      const port = /listening on https:\/\/[^:]+:(\d+)/.exec(one.log)?.[1];
      expect(port, one.log.slice(-2000)).toBeDefined();
      const reg = bulwarkCli([
        'register',
        '--kubeconfig',
        join(dir, 'kubeconfig'),
        '--url',
        `https://127.0.0.1:${port}`,
        '--ca-file',
        join(dir, 'pki-bulwark/ca.crt'),
      ]);
      expect(reg.code, reg.stderr).toBe(0);
      try {
        await waitFor(
          'the pods of priv exist (the controllers made them)',
          () => kubectl(['-n', ns, 'get', 'pods', '-l', 'app=priv', '-o', 'name']).stdout.trim() !== '',
        );
        const label = kubectl(['label', 'namespace', ns, 'bulwark.io/mode=enforce']);
        expect(label.code, label.stderr).toBe(0);
        expect(label.stderr).toMatch(/Warning: \[bulwark\] \d+ existing pods? in namespace "team-bg" would be denied under bulwark.io\/mode=enforce:/);
        expect(label.stderr).toMatch(/Warning: priv-[a-z0-9-]+: .*privileged-container/);
      } finally {
        expect(bulwarkCli(['register', '--kubeconfig', join(dir, 'kubeconfig'), '--unregister']).code).toBe(0);
      }

      // A fix and a delete are followed through the watch.
      expect(kubectl(['apply', '-f', '-'], deploymentOf('priv', restricted)).code).toBe(0);
      expect(kubectl(['-n', ns, 'delete', 'daemonset', 'agent']).code).toBe(0);
      await waitFor('the fixed Deployment and the deleted DaemonSet leave the report', () => {
        const f = failing(report());
        return !f.some((x) => x.startsWith('Deployment/priv ') || x.startsWith('DaemonSet/agent '));
      });
      // The first replica stops (and releases the Lease): the second becomes the writer.
      await stop(one);
      await waitFor('the second replica takes the Lease', () => /became the background-scan writer/.test(two!.log), 30);
      if (pgUrl)
        await waitFor(
          'the second replica takes the maintenance Lease',
          () => maintenanceHolder() === 'bg-replica-2' && /holding the maintenance Lease/.test(two!.log),
          30,
        );
    } finally {
      await stop(one);
      if (two) await stop(two);
    }
    // The alerts of what ran, from the store: raised once each, the fixed and the deleted one resolved.
    const { openAlertStore } = await import('../../alerts/store-factory.js');
    const store = await openAlertStore(storeUrl);
    try {
      const items = (await store.list({ source: ['background'] }, undefined, 100)).items;
      const status = (kind: string, name: string) => items.filter((a) => a.resource.kind === kind && a.resource.name === name).map((a) => a.status);
      expect(status('Deployment', 'priv')).toEqual(['resolved']);
      expect(status('DaemonSet', 'agent')).toEqual(['resolved']);
      expect(status('ClusterRoleBinding', 'bg-admin')).toEqual(['active']);
      expect(status('Deployment', 'clean')).toEqual([]);
      // Without cluster.name, the alerts name their cluster by the kube-system namespace's uid.
      const uid = (JSON.parse(kubectl(['get', 'namespace', 'kube-system', '-o', 'json']).stdout) as Obj).metadata.uid as string;
      expect(items.length).toBeGreaterThan(0);
      expect(new Set(items.map((a) => a.cluster))).toEqual(new Set([uid]));
    } finally {
      await store.close();
      if (pgUrl) {
        const pg = (await import('pg')).default;
        const admin = new pg.Client({ connectionString: pgUrl });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
    }
  });

  it('with Bulwark stopped: failurePolicy Fail denies, Ignore admits', async () => {
    const base = [
      'register',
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--url',
      `https://127.0.0.1:${BULWARK_PORT}`,
      '--ca-file',
      join(dir, 'pki-bulwark/ca.crt'),
    ];
    expect(bulwarkCli([...base, '--failure-policy', 'Fail', '--timeout', '2']).code).toBe(0);
    await stopBulwark();
    const clean = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'clean-1', namespace: 'team-a' },
      spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox:1.36' }] },
    });
    const denied = kubectl(['create', '-f', '-'], clean);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/failed calling webhook "validate.bulwark.io"/);
    expect(bulwarkCli([...base, '--failure-policy', 'Ignore', '--timeout', '2']).code).toBe(0);
    expect(kubectl(['create', '-f', '-'], clean.replace('clean-1', 'clean-2')).code).toBe(0);
  });
  it('installs with Helm; generated certificates are stable across upgrades and renewed with a CA overlap', () => {
    const kc = ['--kubeconfig', join(dir, 'kubeconfig')];
    const ns = 'bulwark-helm';
    // The chart brings its own alert ClusterRoles: drop the hand-made ones of the RBAC test.
    expect(kubectl(['delete', 'clusterrole', 'bulwark-security-reader', 'bulwark-security-admin']).code).toBe(0);
    // A namespace that already runs other workloads (team-w holds the warn-mode pod): refused, as they would go unchecked.
    const shared = helm(['install', 'rel2', chartDir, '-n', 'team-w', ...kc]);
    expect(shared.code).not.toBe(0);
    expect(shared.stderr).toMatch(/namespace "team-w" already runs pod "priv", which is not part of this release/);
    // failurePolicy Ignore: no pod of this release will ever run here (no nodes).
    const install = helm(['install', 'rel', chartDir, '-n', ns, '--create-namespace', '--set', 'webhook.failurePolicy=Ignore', ...kc]);
    expect(install.code, install.stderr).toBe(0);
    const readSecret = (): Obj => JSON.parse(kubectl(['-n', ns, 'get', 'secret', 'rel-bulwark-tls', '-o', 'json']).stdout) as Obj;
    const readBundle = (): string => {
      const vwc = JSON.parse(kubectl(['get', 'validatingwebhookconfiguration', 'rel-bulwark', '-o', 'json']).stdout) as Obj;
      return Buffer.from(vwc.webhooks[0].clientConfig.caBundle, 'base64').toString();
    };
    const pem = (secret: Obj, key: string) => Buffer.from(secret.data[key], 'base64').toString();
    // The real authorizer: the chart's ServiceAccount cannot touch webhook configurations (its own included).
    const sar = (verb: string, group: string, resource: string, name?: string): boolean => {
      const review = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: `system:serviceaccount:${ns}:rel-bulwark`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
          resourceAttributes: { verb, group, resource, ...(name ? { name } : {}) },
        },
      };
      const r = kubectl(['create', '-f', '-', '-o', 'json'], JSON.stringify(review));
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as Obj).status.allowed === true;
    };
    expect(sar('create', 'authentication.k8s.io', 'tokenreviews')).toBe(true); // the review itself works
    for (const verb of ['patch', 'update', 'delete']) {
      expect(sar(verb, 'admissionregistration.k8s.io', 'validatingwebhookconfigurations', 'rel-bulwark'), verb).toBe(false);
      expect(sar(verb, 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'rel-bulwark-mutate'), verb).toBe(false);
    }
    expect(sar('get', '', 'secrets', 'rel-bulwark-tls')).toBe(false);
    const pod = JSON.parse(kubectl(['-n', ns, 'get', 'deployment', 'rel-bulwark', '-o', 'json']).stdout) as Obj;
    expect(pod.spec.template.spec.volumes.find((v: Obj) => v.name === 'tls').secret.items.map((i: Obj) => i.key)).toEqual(['tls.crt', 'tls.key']);
    const first = readSecret();
    expect(readBundle()).toBe(pem(first, 'ca.crt'));
    expect(kubectl(['-n', ns, 'get', 'poddisruptionbudget', 'rel-bulwark']).code).toBe(0);

    expect(helm(['upgrade', 'rel', chartDir, '-n', ns, '--reuse-values', ...kc]).code).toBe(0);
    const second = readSecret();
    expect(pem(second, 'ca.crt')).toBe(pem(first, 'ca.crt'));
    expect(pem(second, 'tls.crt')).toBe(pem(first, 'tls.crt'));

    // The CA has 10 days left (inside renewBeforeDays): the next upgrade renews it and keeps the old one trusted.
    const soon = String(Math.floor(Date.now() / 1000) + 10 * 86400);
    expect(kubectl(['-n', ns, 'annotate', 'secret', 'rel-bulwark-tls', '--overwrite', `bulwark.io/ca-not-after=${soon}`]).code).toBe(0);
    expect(helm(['upgrade', 'rel', chartDir, '-n', ns, '--reuse-values', ...kc]).code).toBe(0);
    const third = readSecret();
    const oldCA = pem(first, 'ca.crt');
    const newCA = pem(third, 'ca.crt');
    expect(newCA).not.toBe(oldCA);
    expect(pem(third, 'ca-previous.crt')).toBe(oldCA);
    expect(readBundle()).toBe(newCA + oldCA);
    expect(new X509Certificate(pem(third, 'tls.crt')).checkIssued(new X509Certificate(newCA))).toBe(true);

    expect(helm(['uninstall', 'rel', '-n', ns, ...kc]).code).toBe(0);
    expect(kubectl(['get', 'validatingwebhookconfiguration', 'rel-bulwark']).code).not.toBe(0);
  });
});
