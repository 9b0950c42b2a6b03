// Shared helpers for the PSS suites: turn a pod (or any pod-bearing object) into a subject and
// run one level and version of the standard over it.
import { pssChecks, type PssLevel } from '../../../policies/pss/index.js';
import { toSubject } from '../../../policies/subject.js';
import type { EvalContext, Finding, K8sObject, PodSubject } from '../../../policies/types.js';
import { DEFAULT_LISTS } from '../../../policies/lists.js';

export const CTX: EvalContext = { lists: DEFAULT_LISTS };

export function subjectOf(obj: K8sObject): PodSubject {
  const subject = toSubject(obj);
  if (!subject || subject.type !== 'pod') throw new Error(`not a pod-bearing object: ${String(obj.kind)}`);
  return subject;
}

/** Every finding of `level` at `version` for the object. */
export function evaluate(level: PssLevel, version: string | undefined, obj: K8sObject): Finding[] {
  const subject = subjectOf(obj);
  return pssChecks(level, version).flatMap((check) => check.evaluate(subject, CTX));
}

/** The distinct policy IDs that fired. */
export function policiesFired(level: PssLevel, version: string | undefined, obj: K8sObject): string[] {
  return [...new Set(evaluate(level, version, obj).map((f) => f.policy))];
}

type Spec = Record<string, unknown>;

/** A pod with one container `app` (image `nginx:1.27`) and the given spec fields merged in. */
export function pod(spec: Spec = {}, metadata: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', ...metadata },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ...spec },
  };
}

/** A pod whose single container `app` has the given securityContext. */
export function podWithContainerSc(sc: Record<string, unknown>, spec: Spec = {}): K8sObject {
  return pod({ containers: [{ name: 'app', image: 'nginx:1.27', securityContext: sc }], ...spec });
}

/** A pod that passes restricted at every version; mutate a copy to make one case. */
export function restrictedPod(extra: Spec = {}): K8sObject {
  const sc = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  return pod({
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'app', image: 'nginx:1.27', securityContext: { ...sc } }],
    initContainers: [{ name: 'init', image: 'busybox:1.36', securityContext: { ...sc } }],
    ...extra,
  });
}
