// The alert of a decision: one alert per deny, warn or audit decision, with every finding as evidence.
import type { CompiledConfig } from '../policies/config.js';
import type { CheckMeta } from '../policies/types.js';
import { isRecord } from '../core/record.js';
import { SEVERITY_RANK, type Severity } from '../core/severity.js';
import type { AdmissionRequest } from './admission.js';
import { policyIds } from './clip.js';
import type { Decision } from './decide.js';
import { userOf } from './review.js';
import { TAMPERING_META } from '../policies/tampering.js';

const metaCache = new WeakMap<CompiledConfig, Map<string, CheckMeta>>();

function metaOf(compiled: CompiledConfig, policy: string): CheckMeta | undefined {
  let metas = metaCache.get(compiled);
  if (!metas || (!metas.has(policy) && metas.size !== compiled.checks.length)) {
    metas = new Map(compiled.checks.map((c) => [c.id, c]));
    metaCache.set(compiled, metas);
  }
  // bulwark-tampering is an admission decision of its own, not a check of a profile.
  return metas.get(policy) ?? (policy === TAMPERING_META.id ? TAMPERING_META : undefined);
}

/** What an alert of a decision says; `newAlert` adds the id, fingerprint and defaults. */
export interface DecisionAlert {
  type: string;
  title: string;
  severity: Severity;
  source: 'admission' | 'background';
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
/** What the background scan says of an object that already runs: what admission would do to its creation. */
const WOULD: Record<string, string> = { denied: 'would be denied', warned: 'would be admitted with warnings', audited: 'would be audited' };

/**
 * One alert per deny, warn or audit decision: its type is the policy of the most severe finding
 * (the first at equal severity, enforce before warn before audit), and the evidence lists every
 * finding with its action, so nothing is split across alerts of one request.
 */
export function decisionAlert(
  decision: Decision,
  request: AdmissionRequest,
  compiled: CompiledConfig,
  name: string,
  now: Date,
  source: 'admission' | 'background' = 'admission',
): DecisionAlert {
  const findings = decision.findings;
  let top = findings[0]!;
  for (const f of findings) if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[top.severity]) top = f;
  const meta = metaOf(compiled, top.policy);
  const tactics: string[] = [];
  for (const id of policyIds(findings)) {
    for (const t of metaOf(compiled, id)?.tactics ?? []) if (!tactics.includes(t)) tactics.push(t);
  }
  const gvk = isRecord(request.kind) ? request.kind : { group: '', version: '', kind: '' };
  const object = `${decision.kind || 'object'}${name ? ` ${JSON.stringify(name)}` : ''}${decision.namespace ? ` in namespace ${JSON.stringify(decision.namespace)}` : ''}`;
  const headline =
    source === 'background'
      ? `Found ${object}, which ${WOULD[decision.outcome] ?? decision.outcome} if created now`
      : `${VERB[decision.outcome] ?? decision.outcome} ${request.operation} of ${object}`;
  const omitted = (decision.omitted ?? []).reduce((n, o) => n + o.count, 0);
  const more = findings.length + omitted > 1 ? ` (and ${findings.length + omitted - 1} more)` : '';
  const evidence: Record<string, unknown> = {
    uid: request.uid,
    decision: decision.outcome === 'denied' ? 'deny' : decision.outcome === 'warned' ? 'warn' : 'audit',
    operation: request.operation,
    policies: policyIds(findings),
    findings: findings.map((f) => ({
      policy: f.policy,
      severity: f.severity,
      action: f.action,
      message: f.message,
      path: f.path,
      ...(f.image !== undefined ? { image: f.image } : {}),
    })),
  };
  // Left out at evaluation (MAX_FINDINGS_PER_CHECK per policy): counted, per policy.
  if (decision.omitted) evidence.omittedFindings = Object.fromEntries(decision.omitted.map((o) => [o.policy, o.count]));
  if (request.subResource) evidence.subResource = request.subResource;
  if (decision.errors.length) evidence.checkErrors = decision.errors.map((e) => ({ policy: e.policy, error: e.error.message }));
  return {
    type: top.policy,
    title: meta?.title ?? top.policy,
    severity: top.severity,
    source,
    firstSeen: now.toISOString(),
    namespace: decision.namespace,
    resource: {
      group: typeof gvk.group === 'string' ? gvk.group : '',
      version: typeof gvk.version === 'string' ? gvk.version : '',
      kind: decision.kind,
      name,
    },
    user: userOf(request),
    message: `${headline}: [${top.policy}] ${top.message}${more}`,
    evidence,
    tactics,
    remediation: meta?.remediation ?? '',
  };
}
