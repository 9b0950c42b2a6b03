// The audit log the benches read: a realistic mix of kubelet and controller traffic, leases,
// RequestReceived stages, long-running watches, kubectl users, and a few percent suspicious (exec,
// secrets listed, privileged workloads, credentials in ConfigMaps, attack tools, a stolen
// service-account token). Deterministic; streamed to a file, never held in memory.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const K = 'kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350';
const KUBECTL = 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350';
const sa = (name: string) => ({
  username: `system:serviceaccount:kube-system:${name}`,
  uid: '2f0e1a77-7c1f-4a5e-9d3b-0c3f3f5e2b11',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
});
const node = (i: number) => ({ username: `system:node:worker-${i}`, groups: ['system:nodes', 'system:authenticated'] });
const human = (n: string) => ({ username: `${n}@example.com`, groups: ['developers', 'system:authenticated'] });
const allow = {
  'authorization.k8s.io/decision': 'allow',
  'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "system:node" of ClusterRole "system:node" to Group "system:nodes"',
};

type Template = { weight: number; make(i: number): Record<string, unknown> };

function base(
  verb: string,
  uri: string,
  user: unknown,
  ua: string,
  ref: Record<string, unknown> | undefined,
  code: number,
  stage = 'ResponseComplete',
): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: '@@1@@',
    stage,
    requestURI: uri,
    verb,
    user,
    sourceIPs: ['172.18.0.3'],
    userAgent: ua,
    ...(ref ? { objectRef: ref } : {}),
    ...(stage === 'RequestReceived' ? {} : { responseStatus: { metadata: {}, code } }),
    requestReceivedTimestamp: '@@2@@',
    stageTimestamp: '@@3@@',
    ...(stage === 'RequestReceived' ? {} : { annotations: allow }),
  };
}

/**
 * A write logged at level Request: its body where kube-apiserver's encoder writes it (struct order:
 * after responseStatus, before the timestamps and annotations).
 */
function withBody(ev: Record<string, unknown>, body: unknown): Record<string, unknown> {
  const { requestReceivedTimestamp, stageTimestamp, annotations, ...head } = ev;
  return { ...head, level: 'Request', requestObject: body, requestReceivedTimestamp, stageTimestamp, ...(annotations ? { annotations } : {}) };
}

/** A developer's `kubectl get pod`, at one stage. */
function kubectlGetPod(i: number, stage?: string): Record<string, unknown> {
  const name = `web-${i % 300}`;
  return base(
    'get',
    `/api/v1/namespaces/shop/pods/${name}`,
    human(`dev${i % 20}`),
    KUBECTL,
    { resource: 'pods', namespace: 'shop', name, apiVersion: 'v1' },
    200,
    stage,
  );
}

const okPod = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { generateName: 'web-7d9f8c6b5-', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '7d9f8c6b5' } },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'registry.example.com/shop/web:2.3.1',
        ports: [{ containerPort: 8080 }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
      },
    ],
    serviceAccountName: 'web',
  },
};
const privileged = {
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  metadata: { name: 'node-agent', namespace: 'ops' },
  spec: {
    selector: { matchLabels: { app: 'a' } },
    template: {
      metadata: { labels: { app: 'a' } },
      spec: { hostPID: true, containers: [{ name: 'a', image: 'registry.example.com/agent:1', securityContext: { privileged: true } }] },
    },
  },
};
const creds = {
  kind: 'ConfigMap',
  apiVersion: 'v1',
  metadata: { name: 'app', namespace: 'shop' },
  data: { 'app.properties': 'db.url=jdbc:postgresql://db/shop\ndb.password=hunter2\n', level: 'info' },
};

const TEMPLATES: Template[] = [
  // Control-plane and node chatter: the bulk of any audit log.
  {
    weight: 20,
    make: (i) =>
      base(
        'update',
        `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/worker-${i % 50}?timeout=10s`,
        node(i % 50),
        'kubelet/v1.30.2 (linux/amd64) kubernetes/3968350',
        { resource: 'leases', namespace: 'kube-node-lease', name: `worker-${i % 50}`, apiGroup: 'coordination.k8s.io', apiVersion: 'v1' },
        200,
      ),
  },
  {
    weight: 14,
    make: (i) =>
      base(
        'patch',
        `/api/v1/namespaces/shop/pods/web-${i % 300}/status`,
        node(i % 50),
        'kubelet/v1.30.2 (linux/amd64) kubernetes/3968350',
        { resource: 'pods', namespace: 'shop', name: `web-${i % 300}`, apiVersion: 'v1', subresource: 'status' },
        200,
      ),
  },
  {
    weight: 16,
    make: (i) =>
      base(
        'get',
        `/api/v1/namespaces/shop/configmaps/cfg-${i % 40}`,
        sa('endpointslice-controller'),
        K,
        { resource: 'configmaps', namespace: 'shop', name: `cfg-${i % 40}`, apiVersion: 'v1' },
        200,
      ),
  },
  {
    weight: 10,
    make: () => base('list', '/api/v1/pods?limit=500&resourceVersion=0', sa('generic-garbage-collector'), K, { resource: 'pods', apiVersion: 'v1' }, 200),
  },
  { weight: 14, make: (i) => kubectlGetPod(i, 'RequestReceived') },
  { weight: 8, make: (i) => kubectlGetPod(i) },
  {
    weight: 4,
    make: (i) =>
      base(
        'watch',
        '/api/v1/services?allowWatchBookmarks=true&watch=true',
        node(i % 50),
        'kubelet/v1.30.2',
        { resource: 'services', apiVersion: 'v1' },
        200,
        'ResponseStarted',
      ),
  },
  { weight: 3, make: () => base('get', '/readyz', { username: 'system:anonymous', groups: ['system:unauthenticated'] }, 'kube-probe/1.30', undefined, 200) },
  {
    weight: 6,
    make: (i) =>
      withBody(
        base(
          'create',
          '/api/v1/namespaces/shop/pods',
          sa('replicaset-controller'),
          K,
          { resource: 'pods', namespace: 'shop', name: `web-7d9f8c6b5-${i}`, apiVersion: 'v1' },
          201,
        ),
        okPod,
      ),
  },
  {
    weight: 2,
    make: (i) =>
      withBody(
        base(
          'create',
          '/api/v1/namespaces/shop/pods?fieldManager=kubectl-run',
          human(`dev${i % 20}`),
          KUBECTL,
          { resource: 'pods', namespace: 'shop', name: `dbg-${i % 10}`, apiVersion: 'v1' },
          201,
        ),
        { ...okPod, metadata: { name: `dbg-${i % 10}`, namespace: 'shop' } },
      ),
  },
  // Workloads' own service accounts (16 namespaces' `web`): learned by the baseline in the first
  // hour (anomaly.learningPeriod below), judged afterwards.
  {
    weight: 10,
    make: (i) => {
      const ns = `app-${i % 16}`;
      const [verb, resource] = (
        [
          ['get', 'configmaps'],
          ['list', 'pods'],
          ['watch', 'endpoints'],
          ['get', 'secrets'],
        ] as const
      )[i % 4]!;
      const name = verb === 'get' ? `/cfg-${i % 8}` : '';
      return base(
        verb,
        `/api/v1/namespaces/${ns}/${resource}${name}`,
        { username: `system:serviceaccount:${ns}:web`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] },
        'web/v2.1.0 (linux/amd64) kubernetes/$Format',
        { resource, namespace: ns, ...(name ? { name: name.slice(1) } : {}), apiVersion: 'v1' },
        200,
      );
    },
  },
  // Suspicious: about 3 % of events.
  {
    weight: 0.8,
    make: (i) =>
      base(
        'create',
        `/api/v1/namespaces/shop/pods/web-${i % 300}/exec?command=sh&container=web&stdin=true&tty=true`,
        human(`dev${i % 20}`),
        KUBECTL,
        { resource: 'pods', namespace: 'shop', name: `web-${i % 300}`, apiVersion: 'v1', subresource: 'exec' },
        101,
        'ResponseStarted',
      ),
  },
  { weight: 0.6, make: (i) => base('list', '/api/v1/secrets?limit=500', human(`dev${i % 20}`), KUBECTL, { resource: 'secrets', apiVersion: 'v1' }, 200) },
  {
    weight: 0.6,
    make: (i) =>
      withBody(
        base(
          'create',
          '/apis/apps/v1/namespaces/ops/deployments',
          human(`dev${i % 20}`),
          KUBECTL,
          { resource: 'deployments', namespace: 'ops', name: 'node-agent', apiGroup: 'apps', apiVersion: 'v1' },
          201,
        ),
        privileged,
      ),
  },
  {
    weight: 0.5,
    make: (i) =>
      withBody(
        base(
          'update',
          '/api/v1/namespaces/shop/configmaps/app',
          human(`dev${i % 20}`),
          KUBECTL,
          { resource: 'configmaps', namespace: 'shop', name: 'app', apiVersion: 'v1' },
          200,
        ),
        creds,
      ),
  },
  {
    weight: 0.5,
    make: () =>
      base(
        'list',
        '/api/v1/namespaces/kube-system/secrets',
        { username: 'system:anonymous', groups: ['system:unauthenticated'] },
        'kube-hunter/0.6.8',
        { resource: 'secrets', namespace: 'kube-system', apiVersion: 'v1' },
        403,
      ),
  },
  // A workload's token used from kubectl to list every secret (serviceaccount-rare-operation and -token-misuse).
  {
    weight: 0.2,
    make: (i) =>
      base(
        'list',
        '/api/v1/secrets?limit=500',
        { username: `system:serviceaccount:app-${i % 16}:web`, groups: ['system:serviceaccounts', 'system:authenticated'] },
        KUBECTL,
        { resource: 'secrets', apiVersion: 'v1' },
        200,
      ),
  },
];
/** Templates from this index on are the suspicious ones. */
const FIRST_SUSPICIOUS = 11;

/** A template's line with placeholders for the per-event fields; the object is built once. */
function compile(t: Template, i: number): string[] {
  // Go's encoding/json (kube-apiserver's encoder) writes `<`, `>` and `&` as \u003c, \u003e, \u0026.
  const json = JSON.stringify(t.make(i)).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  const parts = json.split(/"@@\d@@"/);
  if (parts.length !== 4) throw new Error(`a bench template must have auditID and the two timestamps as placeholders`);
  return parts;
}

export async function generate(file: string, n: number): Promise<{ bytes: number; suspicious: number }> {
  const total = TEMPLATES.reduce((s, t) => s + t.weight, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const t of TEMPLATES) cumulative.push((acc += t.weight / total));
  const variants = TEMPLATES.map((t) => Array.from({ length: 64 }, (_, v) => compile(t, v * 7 + 3)));
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const start = Date.UTC(2024, 5, 1, 0, 0, 0);
  let buf = '';
  let bytes = 0;
  let suspicious = 0;
  for (let i = 0; i < n; i++) {
    const r = rand();
    let k = 0;
    while (cumulative[k]! < r) k++;
    if (k >= FIRST_SUSPICIOUS) suspicious++;
    const parts = variants[k]![i & 63]!;
    const id = `0b7e${(i >>> 0).toString(16).padStart(8, '0')}-1c2d-4e5f-8a9b-${(k * 7919 + i).toString(16).padStart(12, '0').slice(-12)}`;
    const ts = new Date(start + i * 20).toISOString().replace('Z', '000Z');
    // Placeholders in order: auditID, requestReceivedTimestamp, stageTimestamp.
    buf += parts[0] + `"${id}"` + parts[1] + `"${ts}"` + parts[2] + `"${ts}"` + parts[3] + '\n';
    if (buf.length > 1 << 20) {
      bytes += Buffer.byteLength(buf);
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  bytes += Buffer.byteLength(buf);
  out.end(buf);
  await once(out, 'finish');
  return { bytes, suspicious };
}
