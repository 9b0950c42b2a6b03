// The one exemption rule of both admission routes (/validate and /mutate): a request whose
// namespace, user or group is exempt in config is neither checked nor patched; nor is the control
// plane's own RBAC reconciliation, which enforce mode must never block:
// - the clusterrole-aggregation-controller writing a ClusterRole that has an aggregationRule (it
//   copies the rules of the aggregated roles into `admin`, `edit`, `view` and the like);
// - system:apiserver writing RBAC objects labelled `kubernetes.io/bootstrapping: rbac-defaults`
//   (the bootstrap roles and bindings it reconciles at every start).
// Narrow on purpose: the identities are matched with the object they reconcile, so a request that
// merely names one of them (impersonation, which an AdmissionReview cannot show) gets nothing else.
import { exemptionReason, type CompiledConfig } from '../policies/config.js';
import { isRecord } from '../policies/subject.js';
import type { AdmissionRequest } from './admission.js';
import { kindOf, namespaceOf, userOf } from './review.js';

export const AGGREGATION_CONTROLLER = 'system:serviceaccount:kube-system:clusterrole-aggregation-controller';
const RBAC_KINDS: ReadonlySet<string> = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** Why the request is the control plane reconciling RBAC, or undefined. */
export function controlPlaneReconciliation(request: AdmissionRequest): string | undefined {
  const object = request.object;
  if (!isRecord(object) || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) return undefined;
  if (isRecord(request.kind) && request.kind.group !== 'rbac.authorization.k8s.io') return undefined;
  const kind = kindOf(request);
  if (!RBAC_KINDS.has(kind)) return undefined;
  const username = userOf(request).username;
  if (username === AGGREGATION_CONTROLLER && kind === 'ClusterRole' && isRecord(object.aggregationRule)) {
    return `${AGGREGATION_CONTROLLER} aggregates the rules of ClusterRole ${JSON.stringify(typeof request.name === 'string' ? request.name : '')}`;
  }
  if (username === 'system:apiserver') {
    const meta = isRecord(object.metadata) ? object.metadata : {};
    const labels = isRecord(meta.labels) ? meta.labels : {};
    if (labels['kubernetes.io/bootstrapping'] === 'rbac-defaults')
      return `system:apiserver reconciles the bootstrap ${kind} ${JSON.stringify(typeof meta.name === 'string' ? meta.name : '')}`;
  }
  return undefined;
}

/** Why the request is exempt (`namespace "x" is exempt`, …), or undefined. Image exemptions act per container, later. */
export function requestExemption(request: AdmissionRequest, compiled: CompiledConfig): string | undefined {
  return exemptionReason(compiled, namespaceOf(request), userOf(request)) ?? controlPlaneReconciliation(request);
}
