// The kinds Bulwark judges, defined once: the webhook (which kinds a review may carry, metrics
// labels), the audit analyser (resource → kind), `bulwark scan` (subjects) and the chart's webhook
// rules (checked against this list by test/policies/kinds.test.ts) all read it.

export interface JudgedKind {
  kind: string;
  /** API groups the resource is served from ('' is the core group). */
  groups: readonly string[];
  /** The resource (plural, lower case), with `/subresource` for a subresource kind. */
  resource: string;
  /** Has a pod template (or is a pod): /mutate may patch it. */
  podBearing: boolean;
}

export const JUDGED_KINDS: readonly JudgedKind[] = [
  { kind: 'Pod', groups: [''], resource: 'pods', podBearing: true },
  { kind: 'PodTemplate', groups: [''], resource: 'podtemplates', podBearing: true },
  { kind: 'Deployment', groups: ['apps'], resource: 'deployments', podBearing: true },
  { kind: 'ReplicaSet', groups: ['apps'], resource: 'replicasets', podBearing: true },
  { kind: 'StatefulSet', groups: ['apps'], resource: 'statefulsets', podBearing: true },
  { kind: 'DaemonSet', groups: ['apps'], resource: 'daemonsets', podBearing: true },
  { kind: 'Job', groups: ['batch'], resource: 'jobs', podBearing: true },
  { kind: 'ReplicationController', groups: [''], resource: 'replicationcontrollers', podBearing: true },
  { kind: 'CronJob', groups: ['batch'], resource: 'cronjobs', podBearing: true },
  // Kubernetes ≤ 1.21 sends the ephemeral-containers subresource as its own kind; later a Pod.
  { kind: 'EphemeralContainers', groups: [''], resource: 'pods/ephemeralcontainers', podBearing: false },
  { kind: 'Role', groups: ['rbac.authorization.k8s.io'], resource: 'roles', podBearing: false },
  { kind: 'ClusterRole', groups: ['rbac.authorization.k8s.io'], resource: 'clusterroles', podBearing: false },
  { kind: 'RoleBinding', groups: ['rbac.authorization.k8s.io'], resource: 'rolebindings', podBearing: false },
  { kind: 'ClusterRoleBinding', groups: ['rbac.authorization.k8s.io'], resource: 'clusterrolebindings', podBearing: false },
  { kind: 'Service', groups: [''], resource: 'services', podBearing: false },
  { kind: 'Ingress', groups: ['networking.k8s.io', 'extensions'], resource: 'ingresses', podBearing: false },
];

/** Every judged kind's name. */
export const SUBJECT_KINDS: readonly string[] = JUDGED_KINDS.map((k) => k.kind);

/** Judged kinds by their (main) resource name: `deployments` → `Deployment`. */
export const KIND_OF_JUDGED_RESOURCE: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(JUDGED_KINDS.filter((k) => !k.resource.includes('/')).map((k) => [k.resource, k.kind])),
);
