// Shared fixtures for the /mutate suites: objects of every pod-bearing kind, requests, patch application.
import jsonpatch from 'jsonpatch';
import { compileConfig, type CompiledConfig } from '../../../policies/config.js';
import { defaultConfig, type BulwarkConfig } from '../../../config/load.js';
import type { K8sObject } from '../../../policies/types.js';
import type { AdmissionRequest, JsonPatchOperation } from '../../../webhook/admission.js';
import { computeMutation, type MutationResult } from '../../../webhook/mutate.js';

export const ALL_MUTATIONS = [
  'seccomp-runtime-default',
  'no-privilege-escalation',
  'drop-all-capabilities',
  'run-as-non-root',
  'read-only-root-filesystem',
  'default-resources',
];

export const RESOURCE_DEFAULTS = { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } } };

export function compiledWith(overrides: Partial<BulwarkConfig> = {}): CompiledConfig {
  return compileConfig({ ...defaultConfig(), ...overrides });
}

/** Every mutation on, with resource defaults. */
export function compiledAll(overrides: Partial<BulwarkConfig> = {}): CompiledConfig {
  return compiledWith({ mutations: ALL_MUTATIONS, mutationDefaults: RESOURCE_DEFAULTS, ...overrides });
}

/** Where the pod spec sits in each pod-bearing kind, as JSON-pointer segments. */
export const KINDS: Record<string, { apiVersion: string; spec: string[]; meta: string[] }> = {
  Pod: { apiVersion: 'v1', spec: ['spec'], meta: ['metadata'] },
  PodTemplate: { apiVersion: 'v1', spec: ['template', 'spec'], meta: ['template', 'metadata'] },
  ReplicationController: { apiVersion: 'v1', spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  Deployment: { apiVersion: 'apps/v1', spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  ReplicaSet: { apiVersion: 'apps/v1', spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  StatefulSet: { apiVersion: 'apps/v1', spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  DaemonSet: { apiVersion: 'apps/v1', spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  Job: { apiVersion: 'batch/v1', spec: ['spec', 'template', 'spec'], meta: ['spec', 'template', 'metadata'] },
  CronJob: {
    apiVersion: 'batch/v1',
    spec: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
    meta: ['spec', 'jobTemplate', 'spec', 'template', 'metadata'],
  },
};
export const KIND_NAMES = Object.keys(KINDS);

function setIn(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** An object of `kind` wrapping `podSpec` (and `podMeta` for the pod's own metadata or template). */
export function objectOf(kind: string, podSpec: unknown, podMeta?: Record<string, unknown>): K8sObject {
  const k = KINDS[kind]!;
  const obj: Record<string, unknown> = { apiVersion: k.apiVersion, kind, metadata: { name: 'x', namespace: 'team-a' } };
  if (podMeta) setIn(obj, k.meta, podMeta);
  setIn(obj, k.spec, podSpec);
  return obj as K8sObject;
}

/** The pointer prefix of the pod spec in `kind`: `/spec/template/spec`. */
export function specPointer(kind: string): string {
  return KINDS[kind]!.spec.map((s) => '/' + s).join('');
}

const RESOURCE_OF: Record<string, string> = {
  Pod: 'pods',
  PodTemplate: 'podtemplates',
  ReplicationController: 'replicationcontrollers',
  Deployment: 'deployments',
  ReplicaSet: 'replicasets',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  Job: 'jobs',
  CronJob: 'cronjobs',
  EphemeralContainers: 'pods',
};

export function requestFor(object: K8sObject | null, overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  const kind = String((object as { kind?: unknown } | null)?.kind ?? 'Pod');
  const apiVersion = String((object as { apiVersion?: unknown } | null)?.apiVersion ?? 'v1');
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return {
    uid: '0b7c5c0e-0000-4000-8000-000000000001',
    kind: { group: group!, version: version!, kind },
    resource: { group: group!, version: version!, resource: RESOURCE_OF[kind] ?? 'unknown' },
    namespace: 'team-a',
    operation: 'CREATE',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    object,
    ...overrides,
  };
}

export function applyPatch<T = K8sObject>(doc: unknown, patch: readonly JsonPatchOperation[]): T {
  return jsonpatch.apply_patch<T>(doc, patch);
}

/** Reviews, applies the patch, reviews again: returns the result, the patched object and the second result. */
export function mutateTwice(
  object: K8sObject,
  compiled: CompiledConfig,
  overrides: Partial<AdmissionRequest> = {},
): { first: MutationResult; patched: K8sObject; second: MutationResult } {
  const first = computeMutation(requestFor(object, overrides), compiled);
  const patched = applyPatch(object, first.patch);
  const second = computeMutation(requestFor(patched, overrides), compiled);
  return { first, patched, second };
}

/** Follows dotted/indexed segments. */
export function at(obj: unknown, ...path: (string | number)[]): unknown {
  let node = obj;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}
