// Findings of Bulwark's ValidatingAdmissionPolicies in the audit log. A binding with the Audit action
// makes the API server write the audit annotation `validation.policy.admission.k8s.io/validation_failure`:
// a JSON list of {message, policy, binding, expressionIndex, validationActions}. The entries of
// `bulwark-<policy-id>` policies become findings of that policy ID, so what the API server judged
// while the webhook was down still becomes an alert. The annotation is untrusted text: bounded, and
// anything malformed is ignored.
import { allPolicyMetas } from '../policies/registry.js';
import type { CheckMeta } from '../policies/types.js';
import type { AuditEvent } from './event.js';

export const VAP_FAILURE_ANNOTATION = 'validation.policy.admission.k8s.io/validation_failure';
const POLICY_PREFIX = 'bulwark-';
/** The API server truncates audit annotations far below this; a longer value is not parsed. */
const MAX_ANNOTATION_LENGTH = 256 * 1024;
const MAX_ENTRIES = 100;
const MAX_MESSAGE_LENGTH = 1024;

export interface VapFinding {
  policy: string;
  meta: CheckMeta;
  /** The VAP's message without its `[policy-id] ` prefix. */
  message: string;
  binding: string;
  expressionIndex: number | undefined;
  validationActions: string[];
}

let metas: Map<string, CheckMeta> | undefined;

/** The bulwark-* validation failures of an audit event, one per policy and message. */
export function vapFindings(ev: AuditEvent): VapFinding[] {
  const annotations = ev.annotations;
  if (!annotations || typeof annotations !== 'object') return [];
  const value = Object.prototype.hasOwnProperty.call(annotations, VAP_FAILURE_ANNOTATION) ? annotations[VAP_FAILURE_ANNOTATION] : undefined;
  if (typeof value !== 'string' || value.length > MAX_ANNOTATION_LENGTH || !value.includes(POLICY_PREFIX)) return [];
  let entries: unknown;
  try {
    entries = JSON.parse(value);
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  metas ??= allPolicyMetas();
  const out: VapFinding[] = [];
  const seen = new Set<string>();
  for (const entry of entries.slice(0, MAX_ENTRIES)) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    if (typeof e.policy !== 'string' || !e.policy.startsWith(POLICY_PREFIX)) continue;
    const policy = e.policy.slice(POLICY_PREFIX.length);
    const meta = metas.get(policy);
    if (!meta) continue;
    let message = typeof e.message === 'string' ? e.message : '';
    if (message.startsWith(`[${policy}] `)) message = message.slice(policy.length + 3);
    if (message.length > MAX_MESSAGE_LENGTH) message = `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
    const key = `${policy}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const index =
      typeof e.expressionIndex === 'number'
        ? e.expressionIndex
        : typeof e.expressionIndex === 'string' && /^\d+$/.test(e.expressionIndex)
          ? Number(e.expressionIndex)
          : undefined;
    out.push({
      policy,
      meta,
      message,
      binding: typeof e.binding === 'string' ? e.binding : '',
      expressionIndex: index,
      validationActions: Array.isArray(e.validationActions) ? e.validationActions.filter((a): a is string => typeof a === 'string').slice(0, 3) : [],
    });
  }
  return out;
}
