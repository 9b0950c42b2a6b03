// Target selection: whether an admission request is one Bulwark checks, and the subject to check.
// Pure: no I/O, no clock.
//
// Which requests are checked (as Pod Security Admission does, where it applies):
// - CREATE and UPDATE of the subject kinds; DELETE and CONNECT never.
// - Main resources only, plus the pods/ephemeralcontainers subresource (a Pod from 1.22,
//   `kind: EphemeralContainers` before). Status, scale, binding, eviction, … are not.
// - A Pod UPDATE only when it is significant in PSA's sense (isSignificantPodUpdate): containers
//   or init containers added or removed, an image changed, an ephemeral container added or
//   changed, a seccomp annotation changed. Relabelling, annotating or finalizing an existing
//   bad pod is allowed.
// - Other kinds on UPDATE only when what the checks read changed: the pod template of a
//   workload, the rules of a role, the roleRef and subjects of a binding, the spec of a Service
//   or Ingress (anything outside metadata and status). PSA evaluates every workload update but
//   only warns and audits on workloads; Bulwark may enforce on them, so it needs the same
//   leniency for a relabel or a controller's annotation as for pods.
// - Never an object being deleted (deletionTimestamp set: the update removes a finalizer).
import { SUBJECT_KINDS } from '../policies/kinds.js';
import { toSubject } from '../policies/subject.js';
import type { K8sObject, PodSubject, Subject } from '../policies/types.js';
import { isRecord } from '../core/record.js';
import type { AdmissionRequest } from './admission.js';
import { kindOf } from './review.js';

const SUBJECT_KIND_SET = new Set(SUBJECT_KINDS);
const EPHEMERAL_SUBRESOURCE = 'ephemeralcontainers';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

export type Target = { evaluate: false; reason: string } | { evaluate: true; subject: Subject };

/** Whether and what to evaluate for a request (everything but exemptions). */
export function admissionTarget(request: AdmissionRequest): Target {
  const operation = request.operation;
  if (operation !== 'CREATE' && operation !== 'UPDATE') return { evaluate: false, reason: `${operation} is not checked` };
  const object = request.object;
  if (!isRecord(object)) return { evaluate: false, reason: 'the request carries no object' };
  const kind = kindOf(request);
  if (!SUBJECT_KIND_SET.has(kind)) return { evaluate: false, reason: `kind ${JSON.stringify(kind)} is not checked` };
  const subResource = typeof request.subResource === 'string' ? request.subResource : '';
  const ephemeral = kind === 'EphemeralContainers' || (kind === 'Pod' && subResource === EPHEMERAL_SUBRESOURCE);
  if (subResource !== '' && !(ephemeral && subResource === EPHEMERAL_SUBRESOURCE)) {
    return { evaluate: false, reason: `subresource ${JSON.stringify(subResource)} is not checked` };
  }
  const subject = toSubject(object.kind === kind ? object : ({ ...object, kind } as K8sObject));
  if (!subject) return { evaluate: false, reason: `kind ${JSON.stringify(kind)} is not checked` };
  if (operation === 'UPDATE') {
    const meta = object.metadata;
    if (isRecord(meta) && meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null) {
      return { evaluate: false, reason: 'the object is being deleted' };
    }
    const old = request.oldObject;
    if (isRecord(old)) {
      const oldSubject = toSubject(old.kind === kind ? old : ({ ...old, kind } as K8sObject));
      if (oldSubject && oldSubject.type === subject.type) {
        const significant =
          subject.type === 'pod' && (kind === 'Pod' || kind === 'EphemeralContainers')
            ? isSignificantPodUpdate(subject, oldSubject as PodSubject)
            : checkedContentChanged(subject, oldSubject);
        if (!significant) return { evaluate: false, reason: 'the update changes nothing Bulwark checks' };
      }
    }
  }
  return { evaluate: true, subject };
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function field(container: unknown, key: 'name' | 'image'): string | undefined {
  return isRecord(container) && typeof container[key] === 'string' ? (container[key] as string) : undefined;
}

function annotationOf(meta: Record<string, unknown>, key: string): string | undefined {
  const annotations = meta.annotations;
  if (!isRecord(annotations)) return undefined;
  const value = annotations[key];
  return typeof value === 'string' ? value : undefined;
}

function significantContainerUpdate(c: unknown, old: unknown, pod: PodSubject, oldPod: PodSubject): boolean {
  if (field(c, 'image') !== field(old, 'image')) return true;
  const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + (field(c, 'name') ?? '');
  return annotationOf(pod.podMeta, key) !== annotationOf(oldPod.podMeta, key);
}

/**
 * PSA's isSignificantPodUpdate (k8s.io/pod-security-admission/admission): the update matters when
 * the seccomp pod annotation changed, containers or init containers were added or removed, a
 * container's image or seccomp annotation changed, or an ephemeral container was added or changed.
 * Everything else a pod update may change (labels, annotations, finalizers, resources, tolerations)
 * cannot make it less safe by what the checks read.
 */
export function isSignificantPodUpdate(pod: PodSubject, oldPod: PodSubject): boolean {
  if (annotationOf(pod.podMeta, SECCOMP_POD_ANNOTATION) !== annotationOf(oldPod.podMeta, SECCOMP_POD_ANNOTATION)) return true;
  for (const list of ['containers', 'initContainers'] as const) {
    const now = listOf(pod.spec[list]);
    const before = listOf(oldPod.spec[list]);
    if (now.length !== before.length) return true;
    for (let i = 0; i < now.length; i++) if (significantContainerUpdate(now[i], before[i], pod, oldPod)) return true;
  }
  // By name, the first of each (as a find would), looked up once: a linear scan per container
  // made a 6 MiB review of 100k same-named ephemeral containers block the event loop for minutes.
  const oldEphemeral = new Map<string | undefined, unknown>();
  for (const o of listOf(oldPod.spec.ephemeralContainers)) {
    const name = field(o, 'name');
    if (!oldEphemeral.has(name)) oldEphemeral.set(name, o);
  }
  for (const c of listOf(pod.spec.ephemeralContainers)) {
    const old = oldEphemeral.get(field(c, 'name'));
    if (old === undefined) return true;
    if (significantContainerUpdate(c, old, pod, oldPod)) return true;
  }
  return false;
}

/**
 * Deep equality of JSON values (key order ignored). Iterative, with an explicit stack: a value
 * nested thousands deep must not overflow the call stack (that would fail the review open).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const stack: unknown[] = [a, b];
  while (stack.length > 0) {
    const y = stack.pop();
    const x = stack.pop();
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push(x[i], y[i]);
      continue;
    }
    if (Array.isArray(y)) return false;
    const rx = x as Record<string, unknown>;
    const ry = y as Record<string, unknown>;
    const keys = Object.keys(rx);
    if (keys.length !== Object.keys(ry).length) return false;
    for (const k of keys) {
      if (!Object.prototype.hasOwnProperty.call(ry, k)) return false;
      stack.push(rx[k], ry[k]);
    }
  }
  return true;
}

/** Whether an update changed what the checks of a non-Pod subject read. */
export function checkedContentChanged(subject: Subject, old: Subject): boolean {
  if (subject.type === 'pod' && old.type === 'pod') {
    return !jsonEqual(subject.podMeta, old.podMeta) || !jsonEqual(subject.spec, old.spec);
  }
  const a = subject.object;
  const b = old.object;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key === 'metadata' || key === 'status' || key === 'apiVersion') continue;
    if (!jsonEqual(a[key], b[key])) return true;
  }
  return false;
}
