// Default data lists (Falco-style macros): every list a rule reads, policy or audit. The config's
// `lists:` key replaces any of them (`lists: {minerNames: [a, b]}`) or extends it
// (`lists: {minerNames: {append: [c]}}`). Exemptions that used to be written into rule code are
// default entries here, so a user can see and change them.
import type { PolicyLists } from './types.js';
import { BASELINE_ALLOWED_CAPABILITIES } from './pss/capabilities-baseline.js';

/** Attack and offensive-recon tools whose default user agent names them. Defensive scanners (kube-bench, kubeaudit, …) are deliberately absent. */
export const DEFAULT_ATTACK_TOOL_USER_AGENTS = [
  'kube-hunter',
  'peirates',
  'kubesploit',
  'kubeletctl',
  'kubeletmein',
  'kdigger',
  'kubiscan',
  'kubestriker',
  'kubehound',
  'botb',
  'kubepwn',
  'kubectl-sudo',
  'red-kube',
  'kube-pentest',
  'cdk-team',
];

/**
 * The control plane's own identities. A fresh control plane creates ~100 ClusterRoles and bindings
 * as system:apiserver; controllers create the pods of the workloads humans submitted. The human's
 * create is what alerts, not the controller's echo.
 */
export const DEFAULT_CONTROL_PLANE_IDENTITIES = [
  'system:apiserver',
  'system:kube-controller-manager',
  'system:kube-scheduler',
  'system:serviceaccount:kube-system:replicaset-controller',
  'system:serviceaccount:kube-system:deployment-controller',
  'system:serviceaccount:kube-system:job-controller',
  'system:serviceaccount:kube-system:cronjob-controller',
  'system:serviceaccount:kube-system:daemon-set-controller',
  'system:serviceaccount:kube-system:statefulset-controller',
  'system:serviceaccount:kube-system:replication-controller',
  'system:serviceaccount:kube-system:generic-garbage-collector',
  'system:serviceaccount:kube-system:clusterrole-aggregation-controller',
  'system:serviceaccount:kube-system:endpoint-controller',
  'system:serviceaccount:kube-system:endpointslice-controller',
  'system:serviceaccount:kube-system:namespace-controller',
  'system:serviceaccount:kube-system:horizontal-pod-autoscaler',
  'system:serviceaccount:kube-system:disruption-controller',
  'system:serviceaccount:kube-system:ttl-after-finished-controller',
  'system:serviceaccount:kube-system:service-account-controller',
  'system:serviceaccount:kube-system:root-ca-cert-publisher',
  // The rest of kube-controller-manager's controllers under --use-service-account-credentials
  // (kubeadm's default): their informers watch every resource, secrets included, cluster-wide.
  'system:serviceaccount:kube-system:attachdetach-controller',
  'system:serviceaccount:kube-system:bootstrap-signer',
  'system:serviceaccount:kube-system:certificate-controller',
  'system:serviceaccount:kube-system:endpointslicemirroring-controller',
  'system:serviceaccount:kube-system:ephemeral-volume-controller',
  'system:serviceaccount:kube-system:expand-controller',
  'system:serviceaccount:kube-system:legacy-service-account-token-cleaner',
  'system:serviceaccount:kube-system:node-controller',
  'system:serviceaccount:kube-system:persistent-volume-binder',
  'system:serviceaccount:kube-system:pod-garbage-collector',
  'system:serviceaccount:kube-system:pv-protection-controller',
  'system:serviceaccount:kube-system:pvc-protection-controller',
  'system:serviceaccount:kube-system:resourcequota-controller',
  'system:serviceaccount:kube-system:route-controller',
  'system:serviceaccount:kube-system:service-controller',
  'system:serviceaccount:kube-system:token-cleaner',
  'system:serviceaccount:kube-system:ttl-controller',
  'system:serviceaccount:kube-system:validatingadmissionpolicy-status-controller',
  // The kubelet creates the mirror pods of static pods (etcd, the API server: host network, host paths).
  'system:node:*',
];

export const DEFAULT_WEBHOOK_ADMINS = ['system:serviceaccount:cert-manager:cert-manager-cainjector'];

export const DEFAULT_ANONYMOUS_ALLOWED_PATHS = ['/healthz', '/livez', '/readyz', '/version'];

export const DEFAULT_CREDENTIAL_KEY_NAMES = [
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'api_key',
  'apikey',
  'access_key',
  'secret_key',
  'private_key',
  'client_secret',
  'credentials',
];

/** The lists that are also keys of `audit:` (the older spelling, still read). */
export const AUDIT_LIST_NAMES = ['attackToolUserAgents', 'controlPlaneIdentities', 'webhookAdmins', 'anonymousAllowedPaths', 'credentialKeyNames'] as const;

export const DEFAULT_LISTS: Readonly<PolicyLists> = Object.freeze({
  sensitiveHostPaths: [
    '/etc',
    '/root',
    '/home',
    '/proc',
    '/sys',
    '/dev',
    '/boot',
    '/lib/modules',
    '/run',
    '/var/run',
    '/var/lib/kubelet',
    '/var/lib/docker',
    '/var/lib/containerd',
    '/var/lib/etcd',
    '/var/log',
    '/etc/kubernetes',
    // Node-root persistence: kernel modules, CNI plugins the kubelet runs as root, system binaries, cron.
    '/usr/lib/modules',
    '/opt/cni',
    '/usr/bin',
    '/usr/sbin',
    '/var/spool/cron',
    '/etc/cron.d',
  ],
  minerNames: [
    'xmrig',
    'xmr-stak',
    'cpuminer',
    'minerd',
    'ethminer',
    'nbminer',
    't-rex',
    'lolminer',
    'phoenixminer',
    'claymore',
    'cgminer',
    'bfgminer',
    'ccminer',
    'nanominer',
    'gminer',
    'teamredminer',
    'srbminer',
    'nicehash',
    'minergate',
    'xmr-stak-cpu',
    'cryptonight',
    'moneroocean',
    'xmrminer',
    'cpuminer-opt',
    'wildrig',
    'bminer',
    'excavator',
    'kawpowminer',
    'ethash',
    'randomx',
    'coinhive',
    'nheqminer',
    'sgminer',
    'xmrigcc',
  ],
  minerPoolSchemes: ['stratum+tcp://', 'stratum+ssl://', 'stratum+tls://', 'stratum2+tcp://', 'stratum+udp://'],
  dashboardNames: ['kubernetes-dashboard', 'centraldashboard', 'headlamp', 'weave-scope-app', 'k8dash', 'skooner', 'kube-ops-view'],
  // Pod template labels of the dashboards' own manifests and charts (kubernetes-dashboard v2
  // recommended.yaml and the v7 chart, headlamp's chart, weave scope, Kubeflow's central dashboard,
  // skooner, k8dash, kube-ops-view).
  dashboardPodLabels: [
    'kubernetes-dashboard: k8s-app=kubernetes-dashboard',
    'kubernetes-dashboard: app.kubernetes.io/name=kubernetes-dashboard-web,app.kubernetes.io/part-of=kubernetes-dashboard,app.kubernetes.io/instance=kubernetes-dashboard,app.kubernetes.io/component=web',
    'kubernetes-dashboard: app.kubernetes.io/name=kong,app.kubernetes.io/instance=kubernetes-dashboard,app.kubernetes.io/component=app',
    'headlamp: app.kubernetes.io/name=headlamp,app.kubernetes.io/instance=headlamp',
    'weave-scope-app: name=weave-scope-app,app=weave-scope,weave-cloud-component=scope,weave-scope-component=app',
    'centraldashboard: app=centraldashboard,app.kubernetes.io/component=centraldashboard,app.kubernetes.io/name=centraldashboard,kustomize.component=centraldashboard',
    'skooner: k8s-app=skooner',
    'k8dash: k8s-app=k8dash',
    'kube-ops-view: application=kube-ops-view,component=frontend',
  ],
  allowedCapabilities: [...BASELINE_ALLOWED_CAPABILITIES],
  // Formerly written into kube-system-workload: the reserved namespaces and the `system:` skip.
  systemNamespaces: ['kube-system', 'kube-public'],
  systemWorkloadUsers: ['system:*'],
  // exposed-service: workloads dangerous when public (see policies/defender/exposed-service.ts for the keys).
  exposedServices: [
    'redis: ports=6379 images=redis,redis-stack,valkey',
    'postgresql: ports=5432 images=postgres,postgresql,postgis severity=medium',
    'mongodb: ports=27017 images=mongo,mongodb',
    'elasticsearch: ports=9200 images=elasticsearch,opensearch',
    'etcd: ports=2379 images=etcd',
    'docker-api: ports=2375,2376 images=docker,dind',
    'kubelet: ports=10250',
    'jupyter: ports=8888 images=jupyter,notebook,jupyterhub,scipy-notebook,datascience-notebook',
    'kubeflow: names=centraldashboard,istio-ingressgateway,ml-pipeline-ui namespaces=kubeflow images=centraldashboard',
    'argo-workflows-server: ports=2746 images=argocli',
    'jenkins: ports=50000 hintPorts=8080 images=jenkins',
  ],
  // system-clusterrole-modified: `system:` ClusterRoles that add-ons (not the bootstrap) create and update.
  systemRoleNamesIgnored: ['system:coredns', 'system:managed-certificate-controller'],
  // serviceaccount-token-misuse: clients a person or an attacker uses, not a workload's own code
  // (the product token of the user agent, lower-cased, starts with one: kubectl also covers kubectl.exe).
  humanClientUserAgents: ['kubectl', 'curl', 'wget', 'python-requests', 'python-urllib', 'httpie', 'postmanruntime', 'insomnia', 'k9s'],
  // Formerly written into kube-events-deleted: the `system:` skip.
  eventDeleters: ['system:*'],
  attackToolUserAgents: DEFAULT_ATTACK_TOOL_USER_AGENTS,
  controlPlaneIdentities: DEFAULT_CONTROL_PLANE_IDENTITIES,
  webhookAdmins: DEFAULT_WEBHOOK_ADMINS,
  anonymousAllowedPaths: DEFAULT_ANONYMOUS_ALLOWED_PATHS,
  credentialKeyNames: DEFAULT_CREDENTIAL_KEY_NAMES,
});

/** What `lists.<name>` may hold: a list (replaces the base) or `{append: [...]}` (extends it). */
export type ListSpec = string[] | { append: string[] };

/** The list in force: `spec` applied to `base` (the default, or the older `audit.<name>` key). */
export function resolveList(base: readonly string[], spec: ListSpec | undefined): string[] {
  if (spec === undefined) return [...base];
  if (Array.isArray(spec)) return [...spec];
  const out = [...base];
  for (const item of spec.append) if (!out.includes(item)) out.push(item);
  return out;
}

/** A list of the configuration, or its default when a hand-built list set lacks it. */
export function listOf(lists: PolicyLists | undefined, name: string): readonly string[] {
  return lists?.[name] ?? DEFAULT_LISTS[name] ?? [];
}
