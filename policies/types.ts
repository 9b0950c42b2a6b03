// The shared vocabulary of every check: subjects in, findings out.
// A check is a pure function; nothing in policies/ does I/O or imports a module other than core/.

import type { Severity } from '../core/severity.js';

export { SEVERITY_RANK, isSeverity, type Severity } from '../core/severity.js';

/** Any Kubernetes object as it arrives: untrusted, every field optional. */
export interface K8sObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: unknown;
  [key: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Which object a subject came from, in Kubernetes terms. */
export interface ObjectRef {
  apiVersion: string;
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Every pod-bearing kind (Pod, PodTemplate, Deployment, ReplicaSet, StatefulSet, DaemonSet,
 * Job, CronJob, ReplicationController, and the pre-1.22 EphemeralContainers subresource)
 * becomes one PodSubject: the pod's metadata and spec, and where they sit in the object.
 */
export interface PodSubject {
  type: 'pod';
  ref: ObjectRef;
  object: K8sObject;
  /** The pod's metadata (a template's metadata for workloads); `{}` when absent. */
  podMeta: ObjectMeta;
  /** Field path of podMeta in the submitted object: `metadata`, `spec.template.metadata`, … */
  podMetaPath: string;
  /** The pod spec; `{}` when absent. Fields are untrusted: check types before use. */
  spec: Record<string, unknown>;
  /** Field path of the spec: `spec`, `spec.template.spec`, `spec.jobTemplate.spec.template.spec`, `template.spec`, or `` for EphemeralContainers. */
  specPath: string;
}

export interface PolicyRule {
  apiGroups?: unknown;
  resources?: unknown;
  resourceNames?: unknown;
  verbs?: unknown;
  nonResourceURLs?: unknown;
}

export interface RoleSubject {
  type: 'role';
  ref: ObjectRef;
  object: K8sObject;
  /** `rules` of the Role/ClusterRole; `[]` when absent or not a list. */
  rules: unknown[];
  clusterScoped: boolean;
}

export interface BindingSubject {
  type: 'binding';
  ref: ObjectRef;
  object: K8sObject;
  roleRef: { apiGroup?: unknown; kind?: unknown; name?: unknown };
  /** `subjects` of the binding; `[]` when absent or not a list. */
  subjects: unknown[];
  clusterScoped: boolean;
}

export interface ServiceSubject {
  type: 'service';
  ref: ObjectRef;
  object: K8sObject;
  spec: Record<string, unknown>;
}

export interface IngressSubject {
  type: 'ingress';
  ref: ObjectRef;
  object: K8sObject;
  spec: Record<string, unknown>;
}

export type Subject = PodSubject | RoleSubject | BindingSubject | ServiceSubject | IngressSubject;
export type SubjectType = Subject['type'];

/** One thing a check found: which policy, how bad, a sentence for humans, and where. */
export interface Finding {
  policy: string;
  severity: Severity;
  /** A human sentence naming the container, volume, rule or field. No `[policy]` prefix. */
  message: string;
  /** Field path in the submitted object, e.g. `spec.template.spec.containers[1].securityContext.privileged`. */
  path: string;
  /** The image of the container the finding is about (image exemptions remove such findings). */
  image?: string;
}

/** Tunable data lists (Falco-style): defaults in policies/lists.ts, overridable in config. */
export interface PolicyLists {
  sensitiveHostPaths: string[];
  minerNames: string[];
  minerPoolSchemes: string[];
  dashboardNames: string[];
  /**
   * The pod labels of known dashboard deployments, one dashboard per entry: `name: key=value,key=value`
   * (a Service whose selector is a subset of one exposes that dashboard). Optional for callers that
   * build lists by hand; the default list applies then.
   */
  dashboardPodLabels?: string[];
  allowedCapabilities: string[];
  /** Namespaces reserved for the control plane (kube-system-workload, serviceaccount-in-kube-namespace). */
  systemNamespaces?: string[];
  /** Users (globs) who may put workloads in systemNamespaces (kube-system-workload). */
  systemWorkloadUsers?: string[];
  /** Users (globs) who may delete events (kube-events-deleted). */
  eventDeleters?: string[];
  /** Audit lists (also settable as `audit.<name>`, which the `lists:` entry then replaces or extends). */
  attackToolUserAgents?: string[];
  controlPlaneIdentities?: string[];
  webhookAdmins?: string[];
  anonymousAllowedPaths?: string[];
  credentialKeyNames?: string[];
  /** Further lists added by later rules; each is a list of strings. */
  [name: string]: string[] | undefined;
}

/** What a check may know beyond the subject. */
/** A pod the background scanner knows: its images and literal env values (for exposed-service). */
export interface KnownPod {
  images: string[];
  env: Record<string, string>;
}

export interface EvalContext {
  lists: PolicyLists;
  /**
   * The pods a selector picks in a namespace, when the caller knows the cluster's pods (the
   * background scanner fills it); absent at admission and in the audit log (ports alone then).
   */
  podsFor?: (namespace: string, selector: Record<string, string>) => readonly KnownPod[];
  /** The requesting user when known (admission, audit); absent in offline scans. */
  user?: { username: string; groups: string[] };
  /** The admission operation when known (CREATE, UPDATE, …). */
  operation?: string;
}

export interface CheckMeta {
  id: string;
  title: string;
  severity: Severity;
  /** MITRE ATT&CK tactics (names). */
  tactics: string[];
  remediation: string;
}

export interface Check<S extends Subject = Subject> extends CheckMeta {
  appliesTo: readonly S['type'][];
  evaluate(subject: S, ctx: EvalContext): Finding[];
}

/** A check of any subject type, as the registry stores them. */

export type AnyCheck = Check<any>;
