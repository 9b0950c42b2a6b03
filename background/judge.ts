// Judging what a cluster already holds, exactly as admission would judge its creation: each object
// becomes the AdmissionRequest of its CREATE and goes through webhook/decide.ts (target selection,
// exemptions, profile checks, actions, namespace mode). Then pods (and ReplicaSets, Jobs) owned by
// a judged workload are folded into the owner, as PSA and Kyverno's autogen report them, unless
// they have a finding their owner's template does not (they differ from it).
import type { CompiledConfig, Action } from '../policies/config.js';
import { JUDGED_KINDS } from '../policies/kinds.js';
import type { K8sObject } from '../policies/types.js';
import type { AdmissionRequest } from '../webhook/admission.js';
import { decide, type ActionedFinding, type NamespaceModes, type OmittedFindings, type Outcome } from '../webhook/decide.js';

export interface JudgedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  outcome: Outcome;
  /** Why skipped or exempt. */
  reason?: string;
  findings: ActionedFinding[];
  /** Checks that threw on this object. */
  errors: { policy: string; message: string }[];
  /** Findings beyond MAX_FINDINGS_PER_CHECK, counted per policy (as in admission). */
  omitted?: OmittedFindings[];
}

export interface JudgeOptions {
  compiled: CompiledConfig;
  namespaceModes?: NamespaceModes | undefined;
  /** Overrides every namespace's mode and the config's actions (`scan --cluster --mode enforce`). */
  mode?: Action | undefined;
  /** Bulwark's own namespace (findings there are at most audited, as in admission). */
  serverNamespace?: string | undefined;
}

const GROUP_OF_KIND = new Map(JUDGED_KINDS.map((k) => [k.kind, k]));

export function groupVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The CREATE request admission would have seen for this object (no user: nobody is exempt by name). */
export function creationRequest(object: K8sObject): AdmissionRequest {
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : 'v1';
  const meta = (object.metadata ?? {}) as Record<string, unknown>;
  const { group, version } = groupVersion(apiVersion);
  const resource = GROUP_OF_KIND.get(kind)?.resource ?? '';
  const request: AdmissionRequest = {
    uid: typeof meta.uid === 'string' ? meta.uid : '',
    kind: { group, version, kind },
    resource: { group, version, resource },
    operation: 'CREATE',
    userInfo: {},
    object,
  };
  if (typeof meta.name === 'string') request.name = meta.name;
  if (typeof meta.namespace === 'string' && meta.namespace) request.namespace = meta.namespace;
  return request;
}

/** Judges one object as admission would judge its creation. */
export function judgeObject(object: K8sObject, opts: JudgeOptions): JudgedObject {
  const meta = (object.metadata ?? {}) as Record<string, unknown>;
  const decision = decide({
    request: creationRequest(object),
    compiled: opts.compiled,
    namespaceModes: opts.namespaceModes,
    routeMode: opts.mode,
    ...(opts.serverNamespace ? { serverNamespace: opts.serverNamespace } : {}),
  });
  return {
    apiVersion: typeof object.apiVersion === 'string' ? object.apiVersion : '',
    kind: typeof object.kind === 'string' ? object.kind : '',
    namespace: typeof meta.namespace === 'string' ? meta.namespace : '',
    name: typeof meta.name === 'string' ? meta.name : '',
    uid: typeof meta.uid === 'string' ? meta.uid : '',
    outcome: decision.outcome,
    ...(decision.reason ? { reason: decision.reason } : {}),
    findings: decision.findings,
    errors: decision.errors.map((e) => ({ policy: e.policy, message: e.error.message })),
    ...(decision.omitted ? { omitted: decision.omitted } : {}),
  };
}

interface OwnerRef {
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

/** The controlling owner's uid, when the object has one. */
export function controllerUid(object: K8sObject): string | undefined {
  const refs = (object.metadata as { ownerReferences?: OwnerRef[] } | undefined)?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  const ref = refs.find((r) => r && r.controller === true && typeof r.uid === 'string');
  return ref?.uid;
}

const findingKey = (f: ActionedFinding): string => `${f.policy}\u0000${f.message}`;

/**
 * Judges every object and folds owned objects into their controller: an object whose controlling
 * owner was judged too is dropped when each of its findings is also a finding of the owner (the
 * same policy, the same message, i.e. it comes from the template). Returns the objects to report
 * in input order.
 */
export function judgeAll(objects: readonly K8sObject[], opts: JudgeOptions): JudgedObject[] {
  const judged = objects.map((o) => judgeObject(o, opts));
  const byUid = new Map<string, JudgedObject>();
  for (const j of judged) if (j.uid) byUid.set(j.uid, j);
  const keep: JudgedObject[] = [];
  for (let i = 0; i < judged.length; i++) {
    const j = judged[i]!;
    const ownerUid = controllerUid(objects[i]!);
    const owner = ownerUid ? byUid.get(ownerUid) : undefined;
    if (owner) {
      const ownerKeys = new Set(owner.findings.map(findingKey));
      if (j.errors.length === 0 && j.findings.every((f) => ownerKeys.has(findingKey(f)))) continue;
    }
    keep.push(j);
  }
  return keep;
}
