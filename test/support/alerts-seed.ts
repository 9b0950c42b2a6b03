// Alerts shaped like a real cluster's, deterministic from a seed: for the console's browser test
// and bench/console.ts. Types, users, namespaces and IPs repeat with a skew, times spread over
// `days` back from `now`.
import { newAlert, type Alert } from '../../alerts/model.js';
import type { Severity } from '../../core/severity.js';
import { prng } from './prng.js';

const KINDS: { type: string; title: string; severity: Severity; kind: string; group: string; tactics: string[] }[] = [
  { type: 'privileged-container', title: 'Privileged container', severity: 'high', kind: 'Pod', group: '', tactics: ['Privilege escalation'] },
  { type: 'exec-into-pod', title: 'Exec into a pod', severity: 'medium', kind: 'Pod', group: '', tactics: ['Execution'] },
  {
    type: 'sensitive-host-mount',
    title: 'Sensitive host path mounted',
    severity: 'high',
    kind: 'Deployment',
    group: 'apps',
    tactics: ['Privilege escalation'],
  },
  {
    type: 'cluster-admin-binding',
    title: 'Binding to cluster-admin',
    severity: 'high',
    kind: 'ClusterRoleBinding',
    group: 'rbac.authorization.k8s.io',
    tactics: ['Persistence'],
  },
  { type: 'secrets-enumerated', title: 'Secrets listed across namespaces', severity: 'medium', kind: 'Secret', group: '', tactics: ['Credential access'] },
  { type: 'nodeport-service', title: 'NodePort service exposed', severity: 'low', kind: 'Service', group: '', tactics: ['Initial access'] },
  { type: 'kube-events-deleted', title: 'Kubernetes events deleted', severity: 'low', kind: 'Event', group: '', tactics: ['Defense evasion'] },
  {
    type: 'serviceaccount-token-misuse',
    title: 'Service account token used from outside',
    severity: 'medium',
    kind: 'ServiceAccount',
    group: '',
    tactics: ['Credential access'],
  },
  {
    type: 'anonymous-request-allowed',
    title: 'Anonymous request allowed',
    severity: 'informational',
    kind: 'Namespace',
    group: '',
    tactics: ['Initial access'],
  },
];
const NAMESPACES = ['default', 'prod', 'payments', 'shop', 'monitoring', 'kube-system', 'dev', 'staging'];
const USERS = ['alice@example.com', 'bob@example.com', 'system:serviceaccount:ci:deployer', 'carol@example.com', 'system:anonymous', 'dave@example.com'];
const AGENTS = ['kubectl/v1.30.2 (linux/amd64) kubernetes/3968350', 'helm/v3.17.0', 'python-requests/2.31', 'curl/8.5.0'];

export function seedAlerts(count: number, opts: { seed?: number; now?: number; days?: number } = {}): Alert[] {
  const random = prng(opts.seed ?? 1);
  const now = opts.now ?? Date.now();
  const span = (opts.days ?? 30) * 86_400_000;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() ** 1.6 * list.length)]!;
  const out: Alert[] = [];
  for (let i = 0; i < count; i++) {
    const k = pick(KINDS);
    const first = now - Math.floor(random() * span);
    const last = Math.min(now, first + Math.floor(random() * 3_600_000));
    const ns = k.kind === 'ClusterRoleBinding' ? '' : pick(NAMESPACES);
    const name = `${k.kind.toLowerCase()}-${i.toString(36)}-${Math.floor(random() * 5000)}`;
    const alert = newAlert({
      type: k.type,
      title: k.title,
      severity: k.severity,
      source: k.type === 'exec-into-pod' || k.type === 'secrets-enumerated' ? 'audit' : 'admission',
      firstSeen: new Date(first).toISOString(),
      lastSeen: new Date(last).toISOString(),
      count: 1 + Math.floor(random() ** 4 * 40),
      namespace: ns,
      resource: { group: k.group, version: 'v1', kind: k.kind, name },
      user: { username: pick(USERS), groups: ['system:authenticated'] },
      sourceIPs: [`10.${Math.floor(random() * 4)}.${Math.floor(random() * 8)}.${1 + Math.floor(random() * 30)}`],
      userAgent: pick(AGENTS),
      auditIDs: [
        `${i.toString(16).padStart(8, '0')}-aaaa-4bbb-8ccc-${Math.floor(random() * 1e12)
          .toString(16)
          .padStart(12, '0')}`,
      ],
      message: `${k.title.toLowerCase()}: ${k.kind} ${ns ? ns + '/' : ''}${name}`,
      evidence: {
        kind: k.kind,
        name,
        namespace: ns,
        container: { name: 'app', image: `registry.example.com/app:${i % 50}`, securityContext: { privileged: k.type === 'privileged-container' } },
      },
      tactics: k.tactics,
      remediation: `Review ${k.kind} ${name} and remove what ${k.type} flags.`,
    });
    out.push(alert);
  }
  return out;
}
