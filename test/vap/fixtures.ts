// Every pod, workload, RBAC and Service/Ingress object the project's tests and examples carry, for the
// VAP agreement test: the PSS fixtures (generated and upstream PSA testdata), the scan fixtures, the
// example manifests, the request objects of the recorded audit logs, and a table of defender cases.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, any>;

const root = join(import.meta.dirname, '..', '..');

export interface Fixture {
  source: string;
  object: Obj;
  /** The requesting user when the fixture records one (audit events). */
  user?: { username: string; groups: string[] };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ya?ml|json)$/.test(name)) out.push(path);
  }
  return out;
}

function objectsOf(value: unknown): Obj[] {
  if (!value || typeof value !== 'object') return [];
  const obj = value as Obj;
  if (obj.kind === 'List' && Array.isArray(obj.items)) return obj.items.flatMap(objectsOf);
  return typeof obj.kind === 'string' ? [obj] : [];
}

function manifestFixtures(dir: string): Fixture[] {
  const out: Fixture[] = [];
  for (const file of walk(join(root, dir))) {
    if (/broken|garbage|configs/.test(file)) continue;
    let docs: unknown[];
    try {
      docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
    } catch {
      continue;
    }
    docs.flatMap(objectsOf).forEach((object, i) => out.push({ source: `${file.slice(root.length + 1)}#${i}`, object }));
  }
  return out;
}

function auditFixtures(file: string): Fixture[] {
  const out: Fixture[] = [];
  readFileSync(join(root, file), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let event: Obj;
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      const object = event.requestObject;
      if (!object || typeof object.kind !== 'string' || !['create', 'update', 'patch'].includes(event.verb)) return;
      const user = event.impersonatedUser ?? event.user ?? {};
      out.push({ source: `${file}:${i + 1}`, object, user: { username: user.username ?? '', groups: user.groups ?? [] } });
    });
  return out;
}

const pod = (name: string, spec: Obj, meta: Obj = {}): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'apps', ...meta }, spec });
const c = (name: string, extra: Obj = {}): Obj => ({ name, image: 'registry.example.com/team/app:1.0', ...extra });

/** Defender cases, both sides of each check, in every pod-bearing shape. */
export const DEFENDER_CASES: Obj[] = [
  pod('privileged', { containers: [c('a'), c('b', { securityContext: { privileged: true } })] }),
  pod('privileged-init', { containers: [c('a')], initContainers: [c('init', { securityContext: { privileged: true } })] }),
  pod('privileged-exempt-image', { containers: [c('a', { image: 'registry.k8s.io/kube-proxy:v1.30.0', securityContext: { privileged: true } })] }),
  pod('host-etc', { containers: [c('a')], volumes: [{ name: 'etc', hostPath: { path: '/etc' } }] }),
  pod('host-etc-dots', { containers: [c('a')], volumes: [{ name: 'etc', hostPath: { path: '//etc/./kubernetes/' } }] }),
  pod('host-root', { containers: [c('a')], volumes: [{ name: 'root', hostPath: { path: '/' } }] }),
  pod('host-var', { containers: [c('a')], volumes: [{ name: 'var', hostPath: { path: '/var' } }] }),
  pod('host-etc-backup', { containers: [c('a')], volumes: [{ name: 'b', hostPath: { path: '/etc-backup' } }] }),
  pod('host-data', {
    containers: [c('a')],
    volumes: [
      { name: 'data', hostPath: { path: '/data/app' } },
      { name: 'e', emptyDir: {} },
    ],
  }),
  pod('host-docker-sock', { containers: [c('a')], volumes: [{ name: 'sock', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } }] }),
  pod('host-network', { hostNetwork: true, containers: [c('a')] }),
  pod('host-pid-false', { hostPID: false, containers: [c('a')] }),
  pod('caps-sys-admin', { containers: [c('a', { securityContext: { capabilities: { add: ['NET_BIND_SERVICE', 'SYS_ADMIN'] } } })] }),
  pod('caps-lower-cap', { containers: [c('a', { securityContext: { capabilities: { add: ['cap_sys_ptrace'] } } })] }),
  pod('caps-allowed-lower', { containers: [c('a', { securityContext: { capabilities: { add: [' cap_chown', 'kill'], drop: ['ALL'] } } })] }),
  pod('caps-all', { containers: [c('a', { securityContext: { capabilities: { add: ['ALL'] } } })] }),
  pod('kube-system', { containers: [c('a')] }, { namespace: 'kube-system' }),
  pod('miner', { containers: [c('a', { image: 'xmrig/xmrig:6.21' })] }),
  pod('miner-host', { containers: [c('a', { image: 'localhost:5000/team/xmr-stak_cpu:latest' })] }),
  pod('miner-digest', { containers: [c('a', { image: 'ghcr.io/acme/t-rex@sha256:0123' })] }),
  pod('miner-in-host-only', { containers: [c('a', { image: 'xmrig.example.com/nginx:1' })] }),
  pod('miner-in-tag-only', { containers: [c('a', { image: 'nginx:xmrig' })] }),
  pod('miner-no-slash', { containers: [c('a', { image: 'xmrig.example.com' })] }),
  pod('minecraft', { containers: [c('a', { image: 'itzg/minecraft-server:latest' })] }),
  pod('miner-cross-slash', { containers: [c('a', { image: 'xmr/stak:1' })] }),
  pod('pool-args', { containers: [c('a', { args: ['--url', 'STRATUM+TCP://wallet:x@pool.example:3333'] })] }),
  pod('pool-command', { containers: [c('a', { command: ['sh', '-c', 'miner -o stratum+ssl://pool:443'] })] }),
  pod('no-pool', { containers: [c('a', { args: ['--url', 'https://example.com'] })] }),
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'apps' },
    spec: {
      template: {
        metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/a': 'unconfined' } },
        spec: { containers: [c('a', { securityContext: { privileged: true } })] },
      },
    },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'kube-system' },
    spec: { template: { spec: { hostPID: true, containers: [c('a')], volumes: [{ name: 'proc', hostPath: { path: '/proc' } }] } } },
  },
  {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'cron', namespace: 'apps' },
    spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [c('a', { image: 'minerd:1' })] } } } } },
  },
  {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'job', namespace: 'apps' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [c('a')] } } },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'apps' },
    spec: { template: { spec: { containers: [c('a', { securityContext: { runAsUser: 0 } })] } } },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'rs', namespace: 'apps' },
    spec: { template: { spec: { hostIPC: true, containers: [c('a')] } } },
  },
  {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'rc', namespace: 'apps' },
    spec: { template: { spec: { containers: [c('a', { ports: [{ containerPort: 80, hostPort: 8080 }] })] } } },
  },
  {
    apiVersion: 'v1',
    kind: 'PodTemplate',
    metadata: { name: 'tpl', namespace: 'apps' },
    template: { spec: { containers: [c('a', { securityContext: { capabilities: { add: ['NET_RAW'] } } })] } },
  },
  { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'gen-', namespace: 'apps' }, spec: { hostNetwork: true, containers: [c('a')] } },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'everything' },
    rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'secrets-reader' },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'named-secret' },
    rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['one'], verbs: ['get'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'exec', namespace: 'apps' },
    rules: [{ apiGroups: [''], resources: ['pods', 'pods/exec'], verbs: ['get', 'create'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'pods-star', namespace: 'apps' },
    rules: [{ apiGroups: [''], resources: ['pods/*'], verbs: ['create'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'reader', namespace: 'apps' },
    rules: [{ apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['get', 'list', 'watch'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'apps-secrets', namespace: 'apps' },
    rules: [{ apiGroups: ['apps'], resources: ['secrets'], verbs: ['get'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'impersonator' },
    rules: [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'escalate' },
    rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['escalate'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'node-proxy' },
    rules: [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'webhooks' },
    rules: [{ apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ['patch'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'webhooks-named' },
    rules: [{ apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], resourceNames: ['bulwark'], verbs: ['patch'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'approver' },
    rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], verbs: ['approve'] }],
  },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'metrics' }, rules: [{ nonResourceURLs: ['*'], verbs: ['*'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'health' }, rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'admins' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [
      { kind: 'User', name: 'alice' },
      { kind: 'ServiceAccount', name: 'ci', namespace: 'build' },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'ns-admin', namespace: 'apps' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'Group', name: 'devs' }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'anon' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [
      { kind: 'User', name: 'bob' },
      { kind: 'Group', name: 'system:unauthenticated' },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'fine', namespace: 'apps' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'Group', name: 'system:authenticated' }],
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes-dashboard', namespace: 'kubernetes-dashboard' },
    spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ui', namespace: 'tools' },
    spec: { type: 'NodePort', selector: { app: 'my-headlamp' }, ports: [{ port: 80 }] },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'headlamp', namespace: 'tools' }, spec: { externalIPs: ['192.0.2.10'], ports: [{ port: 80 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'headlamp', namespace: 'tools' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'grafana-dashboard', namespace: 'tools' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'dash', namespace: 'tools' },
    spec: {
      rules: [
        {
          host: 'dash.example.com',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'kubernetes-dashboard', port: { number: 443 } } } }] },
        },
      ],
    },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'default-dash', namespace: 'tools' },
    spec: { defaultBackend: { service: { name: 'skooner', port: { number: 80 } } } },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'console', namespace: 'tools' },
    spec: { type: 'LoadBalancer', selector: { 'k8s-app': 'kubernetes-dashboard' }, ports: [{ port: 443 }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ui2', namespace: 'tools' },
    spec: { type: 'NodePort', selector: { 'app.kubernetes.io/name': 'headlamp', 'app.kubernetes.io/instance': 'headlamp' }, ports: [{ port: 80 }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'generic', namespace: 'tools' },
    spec: { type: 'NodePort', selector: { component: 'frontend' }, ports: [{ port: 80 }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'extra', namespace: 'tools' },
    spec: { type: 'NodePort', selector: { 'k8s-app': 'kubernetes-dashboard', extra: 'x' }, ports: [{ port: 80 }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'alias', namespace: 'tools' },
    spec: { type: 'ExternalName', externalName: 'kubernetes-dashboard.kubernetes-dashboard.svc.cluster.local.' },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'alias2', namespace: 'tools' }, spec: { type: 'ExternalName', externalName: 'Headlamp.tools' } },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'alias-out', namespace: 'tools' },
    spec: { type: 'ExternalName', externalName: 'headlamp.example.com' },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'headlamp', namespace: 'tools' },
    spec: { type: 'ExternalName', externalName: 'web.example.com', externalIPs: ['192.0.2.1'] },
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'every-verb-listed' },
    rules: [{ apiGroups: [''], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'almost-every-verb' },
    rules: [{ apiGroups: ['apps'], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'exec-get', namespace: 'apps' },
    rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'urls-prefix' },
    rules: [{ nonResourceURLs: ['/**'], verbs: ['get', 'post', 'put', 'patch', 'delete'] }],
  },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'urls-api' }, rules: [{ nonResourceURLs: ['/api/*'], verbs: ['*'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'urls-get' }, rules: [{ nonResourceURLs: ['*'], verbs: ['get'] }] },
  pod('kube-public', { containers: [c('a')] }, { namespace: 'kube-public' }),
  pod('pool-env', { containers: [c('a', { env: [{ name: 'POOL', value: 'stratum+tcp://pool:3333' }], args: ['-o', '$(POOL)'] })] }),
  pod('pool-probe', { containers: [c('a', { livenessProbe: { exec: { command: ['sh', '-c', 'nc stratum+tcp://x:1'] } } })] }),
  pod('pool-hook', { containers: [c('a', { lifecycle: { postStart: { exec: { command: ['miner', '--url=stratum+ssl://p:443'] } } } })] }),
  pod('env-fine', {
    containers: [
      c('a', {
        env: [
          { name: 'URL', value: 'https://example.com' },
          { name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
      }),
    ],
  }),
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'tools' },
    spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  },
];

const bootstrapBinding: Obj = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'cluster-admin', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }],
};
const aggregated: Obj = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'admin' },
  aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] },
  rules: [{ apiGroups: [''], resources: ['secrets', 'pods/exec'], verbs: ['get', 'list', 'create'] }],
};
const APISERVER = { username: 'system:apiserver', groups: ['system:authenticated', 'system:masters'] };
const AGGREGATOR = {
  username: 'system:serviceaccount:kube-system:clusterrole-aggregation-controller',
  groups: ['system:serviceaccounts', 'system:authenticated'],
};

/** The control plane reconciling RBAC (never judged) next to the same objects from a person (judged). */
export const CONTROL_PLANE_CASES: Fixture[] = [
  { source: 'control plane: bootstrap binding by system:apiserver', object: bootstrapBinding, user: APISERVER },
  { source: 'control plane: bootstrap-labelled binding by alice', object: bootstrapBinding, user: { username: 'alice', groups: ['system:authenticated'] } },
  { source: 'control plane: aggregated role by the aggregation controller', object: aggregated, user: AGGREGATOR },
  { source: 'control plane: aggregated role by system:apiserver', object: aggregated, user: APISERVER },
];

export function allFixtures(): Fixture[] {
  const seen = new Set<string>();
  const out: Fixture[] = [];
  const add = (f: Fixture): void => {
    const key = JSON.stringify([f.object, f.user ?? null]);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(f);
  };
  manifestFixtures('test/fixtures/pss').forEach(add);
  manifestFixtures('test/fixtures/scan').forEach(add);
  manifestFixtures('examples/manifests').forEach(add);
  auditFixtures('test/fixtures/audit/session.log').forEach(add);
  auditFixtures('examples/audit/sample.log').forEach(add);
  CONTROL_PLANE_CASES.forEach(add);
  DEFENDER_CASES.forEach((object, i) => add({ source: `defender case ${i} (${object.metadata.name ?? object.metadata.generateName})`, object }));
  return out;
}
