// Normalises raw Kubernetes objects into subjects, so that no check ever looks at raw kinds.
import type { K8sObject, ObjectMeta, ObjectRef, PodSubject, Subject } from './types.js';

import { isRecord } from '../core/record.js';
import { JUDGED_KINDS, SUBJECT_KINDS } from './kinds.js';

export { isRecord };

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function refOf(obj: K8sObject): ObjectRef {
  const apiVersion = asString(obj.apiVersion);
  const slash = apiVersion.indexOf('/');
  const meta = asRecord(obj.metadata);
  return {
    apiVersion,
    group: slash >= 0 ? apiVersion.slice(0, slash) : '',
    version: slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion,
    kind: asString(obj.kind),
    namespace: asString(meta.namespace),
    name: asString(meta.name) || asString(meta.generateName),
  };
}

/** Where the pod template sits in each pod-bearing kind (the pod-bearing ones of policies/kinds.ts). */
const POD_SEGMENTS: Record<string, { meta: string[]; spec: string[] }> = {
  Pod: { meta: ['metadata'], spec: ['spec'] },
  PodTemplate: { meta: ['template', 'metadata'], spec: ['template', 'spec'] },
  Deployment: { meta: ['spec', 'template', 'metadata'], spec: ['spec', 'template', 'spec'] },
  ReplicaSet: { meta: ['spec', 'template', 'metadata'], spec: ['spec', 'template', 'spec'] },
  StatefulSet: { meta: ['spec', 'template', 'metadata'], spec: ['spec', 'template', 'spec'] },
  DaemonSet: { meta: ['spec', 'template', 'metadata'], spec: ['spec', 'template', 'spec'] },
  Job: { meta: ['spec', 'template', 'metadata'], spec: ['spec', 'template', 'spec'] },
  ReplicationController: { meta: ['spec', 'template', 'metadata'], spec: ['spec', 'template', 'spec'] },
  CronJob: {
    meta: ['spec', 'jobTemplate', 'spec', 'template', 'metadata'],
    spec: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  },
};

/** The same, with the joined field paths, so that toSubject does not join them per request. */
const POD_PATHS: Record<string, { meta: string[]; spec: string[]; metaPath: string; specPath: string }> = Object.fromEntries(
  Object.entries(POD_SEGMENTS).map(([kind, p]) => [kind, { ...p, metaPath: p.meta.join('.'), specPath: p.spec.join('.') }]),
);

export const POD_BEARING_KINDS: readonly string[] = JUDGED_KINDS.filter((k) => k.podBearing).map((k) => k.kind);
if (POD_BEARING_KINDS.length !== Object.keys(POD_PATHS).length || POD_BEARING_KINDS.some((k) => !POD_PATHS[k])) {
  throw new Error('policies/kinds.ts and the pod template paths in policies/subject.ts disagree');
}
export const RBAC_ROLE_KINDS: readonly string[] = ['Role', 'ClusterRole'];
export const RBAC_BINDING_KINDS: readonly string[] = ['RoleBinding', 'ClusterRoleBinding'];
export { SUBJECT_KINDS };

function dig(obj: unknown, keys: string[]): unknown {
  let cur: unknown = obj;
  for (const key of keys) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function podSubject(obj: K8sObject, ref: ObjectRef): PodSubject {
  if (ref.kind === 'EphemeralContainers') {
    // Kubernetes ≤ 1.21 sends the ephemeralcontainers subresource as its own kind.
    return {
      type: 'pod',
      ref,
      object: obj,
      podMeta: asRecord(obj.metadata) as ObjectMeta,
      podMetaPath: 'metadata',
      spec: { ephemeralContainers: obj.ephemeralContainers },
      specPath: '',
    };
  }
  const paths = POD_PATHS[ref.kind]!;
  return {
    type: 'pod',
    ref,
    object: obj,
    podMeta: asRecord(dig(obj, paths.meta)) as ObjectMeta,
    podMetaPath: paths.metaPath,
    spec: asRecord(dig(obj, paths.spec)),
    specPath: paths.specPath,
  };
}

/**
 * The subject of one object, or undefined when Bulwark has no check for its kind
 * (a ConfigMap, a Namespace, …). Any apiVersion is accepted: checks read fields, not versions.
 */
export function toSubject(obj: K8sObject): Subject | undefined {
  if (!isRecord(obj)) return undefined;
  const ref = refOf(obj);
  const kind = ref.kind;
  if (Object.prototype.hasOwnProperty.call(POD_PATHS, kind) || kind === 'EphemeralContainers') return podSubject(obj, ref);
  if (kind === 'Role' || kind === 'ClusterRole') {
    return {
      type: 'role',
      ref,
      object: obj,
      rules: Array.isArray(obj.rules) ? obj.rules : [],
      clusterScoped: kind === 'ClusterRole',
    };
  }
  if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') {
    return {
      type: 'binding',
      ref,
      object: obj,
      roleRef: asRecord(obj.roleRef),
      subjects: Array.isArray(obj.subjects) ? obj.subjects : [],
      clusterScoped: kind === 'ClusterRoleBinding',
    };
  }
  if (kind === 'Service') return { type: 'service', ref, object: obj, spec: asRecord(obj.spec) };
  if (kind === 'Ingress') return { type: 'ingress', ref, object: obj, spec: asRecord(obj.spec) };
  return undefined;
}

/** Joins a field path: `joinPath('spec', 'containers[0]')` → `spec.containers[0]`; an empty base is the root. */
export function joinPath(base: string, field: string): string {
  if (!base) return field;
  if (!field) return base;
  return field.startsWith('[') ? base + field : `${base}.${field}`;
}
