// bulwark-tampering — someone weakening Bulwark itself, as the audit log shows it (settings in
// `tampering:`, policies/tampering.ts):
// - a Namespace created, updated or patched so that its `bulwark.io/mode` is weaker than the
//   default action, or with `bulwark.io/webhook: ignore` (out of the webhooks), by a user outside
//   `tampering.modeAdmins`. The audit log has no old object: an update is judged by the new labels;
//   a patch only when its body touches those labels (a patch of another label on a namespace that
//   is already in audit mode is not a new weakening; at level Request a merge patch is judged by
//   the labels it sets). Needs level Request or RequestResponse for namespaces (a Metadata-level
//   event has no labels to judge);
// - a write (create, update, patch, delete, deletecollection; the `scale` subresource of the
//   Deployment too) to a ConfigMap, Secret or Deployment in Bulwark's namespace whose name matches
//   `tampering.names`, or to a mutating/validating webhook configuration, ValidatingAdmissionPolicy or
//   ValidatingAdmissionPolicyBinding (the `bulwark vap` backstop) whose name matches, by a
//   user outside `tampering.allowedUsers`/`allowedGroups` (and not the control plane);
// - deleting Bulwark's namespace.
// Exemptions apply to the authenticated user: an impersonated request is never allowed by a list.
// Dry runs and failed requests changed nothing and do not fire.
import { groupsOf, usernameOf } from '../event.js';
import { objectOfWrite } from '../objects.js';
import { isRecord } from '../../policies/subject.js';
import { BULWARK_MODE_LABEL, BULWARK_WEBHOOK_LABEL, TAMPERING_META, namespaceWeakening } from '../../policies/tampering.js';
import { actor, isControlPlaneRequest, qualified, type AuditFacts, type AuditRule, type RuleContext, type RuleMatch } from './types.js';

const DONE: ReadonlyMap<string, string> = new Map([
  ['create', 'created'],
  ['update', 'updated'],
  ['patch', 'patched'],
  ['delete', 'deleted'],
  ['deletecollection', 'deleted'],
]);

/** Bulwark's own kinds: resource → [API group, kind]. */
const OWN: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['configmaps', ['', 'ConfigMap']],
  ['secrets', ['', 'Secret']],
  ['deployments', ['apps', 'Deployment']],
]);
const WEBHOOKS: ReadonlyMap<string, string> = new Map([
  ['validatingwebhookconfigurations', 'ValidatingWebhookConfiguration'],
  ['mutatingwebhookconfigurations', 'MutatingWebhookConfiguration'],
  // The ValidatingAdmissionPolicy backstop (`bulwark vap`, the chart's vap.enabled): bulwark-<policy-id>.
  ['validatingadmissionpolicies', 'ValidatingAdmissionPolicy'],
  ['validatingadmissionpolicybindings', 'ValidatingAdmissionPolicyBinding'],
]);
const LABEL_KEYS = [BULWARK_MODE_LABEL, BULWARK_WEBHOOK_LABEL, BULWARK_MODE_LABEL.replace('/', '~1'), BULWARK_WEBHOOK_LABEL.replace('/', '~1')];

/** The authenticated user, as the allow lists read it: nobody when the request was impersonated. */
function allowedBy(f: AuditFacts, test: (username: string, groups: readonly string[]) => boolean): boolean {
  if (f.impersonator !== undefined) return false;
  return test(usernameOf(f.event.user), groupsOf(f.event.user));
}

/** Whether a patch body (merge, strategic or JSON patch) mentions Bulwark's namespace labels. */
function patchTouchesLabels(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  let text: string;
  try {
    text = JSON.stringify(body);
  } catch {
    return true; // unreadable (too deep): judge by the result
  }
  return LABEL_KEYS.some((k) => text.includes(k));
}

function namespaceChange(f: AuditFacts, ctx: RuleContext, done: string): RuleMatch | undefined {
  if (f.verb === 'delete') {
    if (f.name !== ctx.tampering.namespace || allowedBy(f, ctx.tampering.mayChangeBulwark)) return undefined;
    return { message: `${actor(f)} deleted namespace ${f.name}, Bulwark's own namespace`, namespace: f.name };
  }
  if (f.verb !== 'create' && f.verb !== 'update' && f.verb !== 'patch') return undefined;
  if (allowedBy(f, ctx.tampering.isModeAdmin)) return undefined;
  if (f.verb === 'patch' && !patchTouchesLabels(f.event.requestObject)) return undefined;
  // The stored namespace (RequestResponse), else a merge patch's own labels (level Request: what
  // `kubectl label` sends sets them, whatever the namespace had).
  const obj = objectOfWrite(f.event) ?? (f.verb === 'patch' && isRecord(f.event.requestObject) ? f.event.requestObject : undefined);
  if (!obj) return undefined;
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const weakening = namespaceWeakening(meta.labels, undefined, ctx.defaultAction);
  if (!weakening) return undefined;
  const name = f.name || (typeof meta.name === 'string' ? meta.name : '');
  return {
    message: `${actor(f)} ${done} namespace ${name}: ${weakening.what}`,
    namespace: name,
    evidence: {
      labels: isRecord(meta.labels)
        ? { [BULWARK_MODE_LABEL]: meta.labels[BULWARK_MODE_LABEL] ?? null, [BULWARK_WEBHOOK_LABEL]: meta.labels[BULWARK_WEBHOOK_LABEL] ?? null }
        : {},
    },
  };
}

export const bulwarkTampering: AuditRule = {
  ...TAMPERING_META,
  sources: ['admission', 'audit'],
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: ['namespaces', ...OWN.keys(), ...WEBHOOKS.keys()],
  match(f, ctx) {
    if (!f.success) return undefined;
    const done = DONE.get(f.verb);
    if (done === undefined) return undefined;
    if (f.resource === 'namespaces' && f.apiGroup === '' && f.subresource === '') return namespaceChange(f, ctx, done);
    const t = ctx.tampering;
    let kind: string | undefined;
    const own = OWN.get(f.resource);
    if (own !== undefined && f.apiGroup === own[0] && f.namespace === t.namespace) {
      if (f.subresource !== '' && !(own[1] === 'Deployment' && f.subresource === 'scale')) return undefined;
      // deletecollection names no object: it removes Bulwark's along with the rest.
      if (f.verb !== 'deletecollection' && !t.isBulwarkName(f.name)) return undefined;
      kind = own[1];
    } else if (WEBHOOKS.has(f.resource) && f.apiGroup === 'admissionregistration.k8s.io' && f.subresource === '') {
      if (f.verb !== 'deletecollection' && !t.isBulwarkName(f.name)) return undefined;
      kind = WEBHOOKS.get(f.resource)!;
    } else return undefined;
    if (isControlPlaneRequest(f, ctx) || allowedBy(f, t.mayChangeBulwark)) return undefined;
    const target =
      f.verb === 'deletecollection'
        ? `every ${kind} in ${f.namespace ? `namespace ${f.namespace}` : 'the cluster'}, Bulwark's included`
        : `${kind} ${qualified(f.namespace, f.name)}${f.subresource ? ` (${f.subresource})` : ''}, one of Bulwark's own objects`;
    return { message: `${actor(f)} ${done} ${target}` };
  },
};
