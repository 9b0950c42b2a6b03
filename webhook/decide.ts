// The admission decision, pure: an AdmissionRequest and the compiled config in, the
// AdmissionResponse and what the alert needs out. No I/O, no clock, no logging: the server does that.
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
import type { Action, CompiledConfig } from '../policies/config.js';
import type { CheckError } from '../policies/evaluate.js';
import { evaluateSubject } from '../policies/evaluate.js';
import { isRecord, toSubject } from '../policies/subject.js';
import { SEVERITY_RANK, type CheckMeta, type Finding, type K8sObject, type PodSubject, type Severity, type Subject } from '../policies/types.js';
import type { AdmissionRequest, AdmissionResponse } from './admission.js';
import { requestExemption } from './exemptions.js';
import { isNamespaceRequest, judgeNamespace } from './tampering.js';
import { TAMPERING_META } from '../policies/tampering.js';
import { kindOf, namespaceOf, userOf } from './review.js';

/** The namespace label that overrides every policy's action for the namespace's objects. */
export const MODE_LABEL = 'bulwark.io/mode';
/** The auditAnnotations key (the API server stores it as `<webhook name>/policies`). */
export const AUDIT_ANNOTATION = 'policies';
/** Warnings: one per finding, each at most 256 bytes, all within 4 KiB (the API server truncates beyond). */
export const WARNING_LIMITS: LineLimits = { maxLineBytes: 256, maxTotalBytes: 4096 };
/** The denial's status.message: one line per finding, bounded so a pathological object cannot bloat it. */
export const DENIAL_LIMITS: LineLimits = { maxLineBytes: 1024, maxTotalBytes: 16384 };

const SUBJECT_KIND_SET = new Set([
  'Pod', 'PodTemplate', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob',
  'ReplicationController', 'EphemeralContainers', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding',
  'Service', 'Ingress',
]);
const EPHEMERAL_SUBRESOURCE = 'ephemeralcontainers';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const ACTION_RANK: Record<Action, number> = { enforce: 0, warn: 1, audit: 2 };

export function isAction(value: unknown): value is Action {
  return value === 'enforce' || value === 'warn' || value === 'audit';
}

/** Where a namespace's mode comes from: a namespace informer in a cluster, a plain object in tests. */
export interface NamespaceModes {
  /** The `bulwark.io/mode` label of the namespace, when it is set to a valid action. A cache lookup, never I/O. */
  modeOf(namespace: string): Action | undefined;
}

export interface LineLimits {
  maxLineBytes: number;
  maxTotalBytes: number;
}

export interface ActionedFinding extends Finding {
  action: Action;
}

/**
 * What happened to a request:
 * `allowed` (checked, nothing found), `skipped` (not a request Bulwark checks), `exempt`,
 * `denied`, `warned`, `audited`.
 */
export type Outcome = 'allowed' | 'skipped' | 'exempt' | 'denied' | 'warned' | 'audited';

export interface DecisionInput {
  request: AdmissionRequest;
  compiled: CompiledConfig;
  /** The namespaces' `bulwark.io/mode` labels (a cache lookup). */
  namespaceModes?: NamespaceModes | undefined;
  /** A mode forced by the route (`/validate/audit`): overrides the label and the config. */
  routeMode?: Action | undefined;
  /** Bulwark's own namespace: never blocked, findings there are at most audited. */
  serverNamespace?: string;
}

export interface Decision {
  outcome: Outcome;
  /** The response to send; undefined means the plain `allowed: true`. */
  response: AdmissionResponse | undefined;
  /** Why the request was skipped or exempt. */
  reason?: string;
  /** Findings with their actions, strongest action first, then severity. */
  findings: ActionedFinding[];
  /** Checks that threw; answered according to config `onError`. */
  errors: CheckError[];
  namespace: string;
  kind: string;
}

export type Target =
  | { evaluate: false; reason: string }
  | { evaluate: true; subject: Subject };

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
        const significant = subject.type === 'pod' && (kind === 'Pod' || kind === 'EphemeralContainers')
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

const ALLOWED_NOTHING: Omit<Decision, 'outcome' | 'reason' | 'namespace' | 'kind'> = Object.freeze({
  response: undefined,
  findings: [],
  errors: [],
}) as Omit<Decision, 'outcome' | 'reason' | 'namespace' | 'kind'>;

/** The admission decision for one request. Pure. */
export function decide(input: DecisionInput): Decision {
  const { request, compiled } = input;
  const namespace = namespaceOf(request);
  const kind = kindOf(request);
  // A Namespace is judged for one thing: someone weakening Bulwark for it (webhook/tampering.ts).
  if (isNamespaceRequest(request)) return decideNamespace(input, namespace, kind);
  const target = admissionTarget(request);
  if (!target.evaluate) return { ...ALLOWED_NOTHING, outcome: 'skipped', reason: target.reason, namespace, kind };
  const exempt = requestExemption(request, compiled);
  if (exempt) return { ...ALLOWED_NOTHING, outcome: 'exempt', reason: exempt, namespace, kind };

  const user = userOf(request);
  const evaluation = evaluateSubject(target.subject, compiled, { user, operation: request.operation });
  const protectedNamespace = !!input.serverNamespace && namespace === input.serverNamespace;
  const override = input.routeMode ?? (namespace ? input.namespaceModes?.modeOf(namespace) : undefined);
  const actionOf = (configured: Action): Action => (protectedNamespace ? 'audit' : (override ?? configured));

  const findings: ActionedFinding[] = [];
  for (const f of evaluation.findings) {
    const configured = compiled.actionOf.get(f.policy) ?? compiled.config.defaultAction;
    findings.push({ ...f, action: actionOf(configured) });
  }
  if (evaluation.errors.length > 0 && compiled.config.onError === 'deny') {
    // A check that threw counts as a finding of its policy that the request could not pass.
    for (const e of evaluation.errors) {
      findings.push({
        policy: e.policy,
        severity: compiled.checks.find((c) => c.id === e.policy)?.severity ?? 'high',
        message: 'the check failed on this object (internal error); it is denied because onError is deny',
        path: '',
        action: actionOf('enforce'),
      });
    }
  }
  if (findings.length === 0) {
    return { outcome: 'allowed', response: undefined, findings, errors: evaluation.errors, namespace, kind };
  }
  findings.sort(byActionThenSeverity);
  return respond(request.uid, findings, evaluation.errors, !!request.dryRun, namespace, kind);
}

function decideNamespace(input: DecisionInput, namespace: string, kind: string): Decision {
  const { request, compiled } = input;
  const judged = judgeNamespace(request, compiled, input.serverNamespace);
  if (!judged.judged) return { ...ALLOWED_NOTHING, outcome: 'skipped', reason: judged.reason, namespace, kind };
  const exempt = requestExemption(request, compiled);
  if (exempt) return { ...ALLOWED_NOTHING, outcome: 'exempt', reason: exempt, namespace, kind };
  if (!judged.finding || judged.action === 'off') return { ...ALLOWED_NOTHING, outcome: 'allowed', namespace, kind };
  const findings: ActionedFinding[] = [{ ...judged.finding, action: input.routeMode ?? judged.action }];
  return respond(request.uid, findings, [], !!request.dryRun, namespace, kind);
}

function byActionThenSeverity(a: ActionedFinding, b: ActionedFinding): number {
  return ACTION_RANK[a.action] - ACTION_RANK[b.action] || SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity];
}

function respond(uid: string, findings: ActionedFinding[], errors: CheckError[], dryRun: boolean, namespace: string, kind: string): Decision {
  const strongest = findings[0]!.action;
  const auditAnnotations = { [AUDIT_ANNOTATION]: policyIds(findings).join(',') };
  if (strongest === 'enforce') {
    const shown = findings.filter((f) => f.action !== 'audit');
    return {
      outcome: 'denied',
      response: {
        uid,
        allowed: false,
        status: { status: 'Failure', code: 403, reason: 'Forbidden', message: limitLines(shown, DENIAL_LIMITS, dryRun).join('\n') },
        auditAnnotations,
      },
      findings, errors, namespace, kind,
    };
  }
  if (strongest === 'warn') {
    const shown = findings.filter((f) => f.action === 'warn');
    return {
      outcome: 'warned',
      response: { uid, allowed: true, warnings: limitLines(shown, WARNING_LIMITS, dryRun), auditAnnotations },
      findings, errors, namespace, kind,
    };
  }
  return { outcome: 'audited', response: { uid, allowed: true, auditAnnotations }, findings, errors, namespace, kind };
}

/** Distinct policy IDs in first-seen order. */
export function policyIds(findings: readonly Finding[]): string[] {
  const ids: string[] = [];
  for (const f of findings) if (!ids.includes(f.policy)) ids.push(f.policy);
  return ids;
}

// Characters the API server cannot carry in a Warning header or a one-line message.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]+/g;

/** The text, on one line, clipped to `maxBytes` of UTF-8 with an ellipsis. */
export function clip(text: string, maxBytes: number): string {
  const line = text.replace(CONTROL_CHARACTERS, ' ');
  if (Buffer.byteLength(line) <= maxBytes) return line;
  const chars = Array.from(line);
  let bytes = 3; // '…'
  let out = '';
  for (const ch of chars) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    out += ch;
  }
  return out + '…';
}

/**
 * One `[policy-id] sentence` line per finding (duplicates once), each within `maxLineBytes`, all
 * within `maxTotalBytes`; findings that do not fit are summarised in a last line:
 * `[bulwark] 7 more findings: policy-a, policy-b (see the alert)`.
 */
export function limitLines(findings: readonly Finding[], limits: LineLimits, dryRun = false): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    const line = `[${f.policy}] ${f.message}`;
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(clip(line, limits.maxLineBytes));
    }
  }
  let total = 0;
  for (const l of lines) total += Buffer.byteLength(l);
  if (total <= limits.maxTotalBytes) return lines;

  // Keep what fits while leaving room for the summary line (at most maxLineBytes).
  const kept: string[] = [];
  let used = 0;
  let i = 0;
  for (; i < lines.length; i++) {
    const n = Buffer.byteLength(lines[i]!);
    if (used + n + limits.maxLineBytes > limits.maxTotalBytes) break;
    kept.push(lines[i]!);
    used += n;
  }
  const rest = lines.slice(i);
  const ids: string[] = [];
  for (const l of rest) {
    const id = l.slice(1, l.indexOf(']'));
    if (!ids.includes(id)) ids.push(id);
  }
  kept.push(summaryLine(rest.length, ids, dryRun, limits.maxLineBytes));
  return kept;
}

function summaryLine(count: number, ids: readonly string[], dryRun: boolean, maxBytes: number): string {
  const head = `[bulwark] ${count} more ${count === 1 ? 'finding' : 'findings'}: `;
  const tail = dryRun ? ' (dry run: no alert recorded)' : ' (see the alert)';
  let list = '';
  for (let i = 0; i < ids.length; i++) {
    const next = list ? `${list}, ${ids[i]}` : ids[i]!;
    const more = i < ids.length - 1 ? ', …' : '';
    if (Buffer.byteLength(head + next + more + tail) > maxBytes) {
      list = list ? `${list}, …` : '…';
      break;
    }
    list = next;
  }
  return clip(head + list + tail, maxBytes);
}

// ---- the alert of a decision ----

const metaCache = new WeakMap<CompiledConfig, Map<string, CheckMeta>>();

function metaOf(compiled: CompiledConfig, policy: string): CheckMeta | undefined {
  let metas = metaCache.get(compiled);
  if (!metas || (!metas.has(policy) && metas.size !== compiled.checks.length)) {
    metas = new Map(compiled.checks.map((c) => [c.id, c]));
    metaCache.set(compiled, metas);
  }
  return metas.get(policy) ?? (policy === TAMPERING_META.id ? TAMPERING_META : undefined);
}

/** What an alert of a decision says; `newAlert` adds the id, fingerprint and defaults. */
export interface DecisionAlert {
  type: string;
  title: string;
  severity: Severity;
  source: 'admission';
  firstSeen: string;
  namespace: string;
  resource: { group: string; version: string; kind: string; name: string };
  user: { username: string; groups: string[] };
  message: string;
  evidence: Record<string, unknown>;
  tactics: string[];
  remediation: string;
}

const VERB: Record<string, string> = { denied: 'Denied', warned: 'Allowed with warnings', audited: 'Audited' };

/**
 * One alert per deny, warn or audit decision: its type is the policy of the most severe finding
 * (the first at equal severity, enforce before warn before audit), and the evidence lists every
 * finding with its action, so nothing is split across alerts of one request.
 */
export function decisionAlert(decision: Decision, request: AdmissionRequest, compiled: CompiledConfig, name: string, now: Date): DecisionAlert {
  const findings = decision.findings;
  let top = findings[0]!;
  for (const f of findings) if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[top.severity]) top = f;
  const meta = metaOf(compiled, top.policy);
  const tactics: string[] = [];
  for (const id of policyIds(findings)) {
    for (const t of metaOf(compiled, id)?.tactics ?? []) if (!tactics.includes(t)) tactics.push(t);
  }
  const gvk = isRecord(request.kind) ? request.kind : { group: '', version: '', kind: '' };
  const what = `${request.operation} of ${decision.kind || 'object'}${name ? ` ${JSON.stringify(name)}` : ''}${decision.namespace ? ` in namespace ${JSON.stringify(decision.namespace)}` : ''}`;
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more)` : '';
  const evidence: Record<string, unknown> = {
    uid: request.uid,
    decision: decision.outcome === 'denied' ? 'deny' : decision.outcome === 'warned' ? 'warn' : 'audit',
    operation: request.operation,
    policies: policyIds(findings),
    findings: findings.map((f) => ({
      policy: f.policy, severity: f.severity, action: f.action, message: f.message, path: f.path,
      ...(f.image !== undefined ? { image: f.image } : {}),
    })),
  };
  if (request.subResource) evidence.subResource = request.subResource;
  if (decision.errors.length) evidence.checkErrors = decision.errors.map((e) => ({ policy: e.policy, error: e.error.message }));
  return {
    type: top.policy,
    title: meta?.title ?? top.policy,
    severity: top.severity,
    source: 'admission',
    firstSeen: now.toISOString(),
    namespace: decision.namespace,
    resource: {
      group: typeof gvk.group === 'string' ? gvk.group : '',
      version: typeof gvk.version === 'string' ? gvk.version : '',
      kind: decision.kind,
      name,
    },
    user: userOf(request),
    message: `${VERB[decision.outcome] ?? decision.outcome} ${what}: [${top.policy}] ${top.message}${more}`,
    evidence,
    tactics,
    remediation: meta?.remediation ?? '',
  };
}
