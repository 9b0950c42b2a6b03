// The admission side of bulwark-tampering: what an AdmissionReview can show of someone weakening
// Bulwark. Bulwark's own ConfigMap, Secret and Deployment live in a namespace its webhooks skip, and
// the API server never sends webhook configurations to admission webhooks, so those changes are seen
// on the audit side only (audit/rules/bulwark-tampering.ts). What admission does see, through the
// chart's `namespaces.bulwark.io` webhook (no namespace selector, so the opt-out label cannot hide
// the relabel that sets it), is a Namespace created or updated with a weaker `bulwark.io/mode` than
// it had (or than `defaultAction`, on create) or with `bulwark.io/webhook: ignore` newly set, by a
// user outside `tampering.modeAdmins`. Its action is `actions.bulwark-tampering`, else
// `defaultAction` (never the namespace's own label, which is what is being changed): in enforce mode
// the relabel is denied.
import type { Action, CompiledConfig } from '../policies/config.js';
import { isRecord } from '../core/record.js';
import { BULWARK_TAMPERING, TAMPERING_META, compileTampering, namespaceWeakening, tamperingSettingsOf, type CompiledTampering } from '../policies/tampering.js';
import type { Finding } from '../policies/types.js';
import type { AdmissionRequest } from './admission.js';
import { kindOf, userOf } from './review.js';

const compiledTampering = new WeakMap<CompiledConfig, Map<string, CompiledTampering>>();

function tamperingOf(compiled: CompiledConfig, serverNamespace: string | undefined): CompiledTampering {
  let byNs = compiledTampering.get(compiled);
  if (!byNs) compiledTampering.set(compiled, (byNs = new Map()));
  const key = serverNamespace ?? '';
  let t = byNs.get(key);
  // The webhook compiles the policy part of the config; `tampering:` rides along (config/load.ts).
  if (!t) byNs.set(key, (t = compileTampering(tamperingSettingsOf((compiled.config as { tampering?: unknown }).tampering), serverNamespace)));
  return t;
}

export type NamespaceJudgement = { judged: false; reason: string } | { judged: true; finding: Finding | undefined; action: Action | 'off' };

/** Whether the request is a Namespace write Bulwark judges for tampering, and what it found. */
export function judgeNamespace(request: AdmissionRequest, compiled: CompiledConfig, serverNamespace?: string): NamespaceJudgement {
  const operation = request.operation;
  if (operation !== 'CREATE' && operation !== 'UPDATE') return { judged: false, reason: `${operation} is not checked` };
  const subResource = typeof request.subResource === 'string' ? request.subResource : '';
  if (subResource !== '') return { judged: false, reason: `subresource ${JSON.stringify(subResource)} is not checked` };
  const object = request.object;
  if (!isRecord(object)) return { judged: false, reason: 'the request carries no object' };
  const action = compiled.config.actions[BULWARK_TAMPERING] ?? compiled.config.defaultAction;
  const user = userOf(request);
  const tampering = tamperingOf(compiled, serverNamespace);
  if (tampering.isModeAdmin(user.username, user.groups)) return { judged: true, finding: undefined, action };
  const labelsOf = (o: unknown) => (isRecord(o) && isRecord(o.metadata) ? o.metadata.labels : undefined);
  const old = operation === 'UPDATE' && isRecord(request.oldObject) ? (labelsOf(request.oldObject) ?? {}) : undefined;
  const weakening = namespaceWeakening(labelsOf(object), old, compiled.config.defaultAction);
  if (!weakening) return { judged: true, finding: undefined, action };
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const name = typeof meta.name === 'string' && meta.name ? meta.name : typeof request.name === 'string' ? request.name : '';
  return {
    judged: true,
    action,
    finding: {
      policy: BULWARK_TAMPERING,
      severity: TAMPERING_META.severity,
      message: `namespace ${JSON.stringify(name)} ${operation.toLowerCase()} by ${JSON.stringify(user.username)} ${weakening.what}; only tampering.modeAdmins may weaken Bulwark for a namespace`,
      path: weakening.path,
    },
  };
}

export function isNamespaceRequest(request: AdmissionRequest): boolean {
  return kindOf(request) === 'Namespace' && (!isRecord(request.kind) || request.kind.group === '' || request.kind.group === undefined);
}
