// `bulwark vap --explain`: what was compiled, at what estimated cost, how it differs from the webhook,
// and what stays webhook-only, with the coverage count.
import { ESTIMATE_LIST_SIZE, ESTIMATE_NESTED_LIST_SIZE, ESTIMATE_STRING_LENGTH, PER_CALL_LIMIT, RUNTIME_COST_BUDGET } from './cost.js';
import { VAP_PSS_VERSION, type VapResult } from './generate.js';

/** What the ValidatingAdmissionPolicies never do, whatever the configuration. */
export const ALWAYS_WEBHOOK_ONLY: readonly string[] = [
  'alerts: a VAP denies, warns or writes an audit annotation; alerts, evidence and the alert store come from the webhook (or from the audit analyser reading the Audit annotation)',
  '/mutate: ValidatingAdmissionPolicy cannot change objects',
  'audit event rules (exec-into-pod, secrets-enumerated, …): they judge the audit log, not an admitted object',
  "onError: a CEL error follows the policy's failurePolicy (Fail: the request is denied)",
  'messages: one message per policy and validation, for the first finding; the webhook lists every finding',
  "the webhook's own namespace runs in audit mode; the VAP bindings treat it like any other namespace (exempt it in exemptions.namespaces)",
];

export function renderExplain(result: VapResult): string {
  const lines: string[] = [];
  lines.push(`Bulwark ValidatingAdmissionPolicies (admissionregistration.k8s.io/${result.apiVersion}; Pod Security Standards ${VAP_PSS_VERSION})`);
  lines.push(`${result.compiled.length} of ${result.total} checks compiled`);
  lines.push('');
  lines.push(
    `compiled (estimated CEL cost per evaluation; limits ${PER_CALL_LIMIT.toLocaleString('en-US')} per expression, ${RUNTIME_COST_BUDGET.toLocaleString('en-US')} per policy):`,
  );
  const width = Math.max(10, ...result.compiled.map((c) => c.id.length));
  for (const c of result.compiled) {
    const max = Math.max(...c.costs.map((x) => x.cost));
    lines.push(
      `  ${c.id.padEnd(width)}  ${c.action.padEnd(7)}  total ${c.totalCost.toLocaleString('en-US').padStart(10)}  largest expression ${max.toLocaleString('en-US').padStart(9)}`,
    );
  }
  const differences = result.compiled.filter((c) => c.compilation.differences?.length);
  if (differences.length) {
    lines.push('');
    lines.push('compiled, with differences from the webhook:');
    for (const c of differences) for (const d of c.compilation.differences!) lines.push(`  ${c.id}: ${d}`);
  }
  lines.push('');
  lines.push('not compiled (webhook-only):');
  if (result.notCompiled.length === 0) lines.push('  none: every active check is compiled');
  for (const n of result.notCompiled) lines.push(`  ${n.id}: ${n.reason}`);
  lines.push('');
  lines.push('always webhook-only:');
  for (const a of ALWAYS_WEBHOOK_ONLY) lines.push(`  - ${a}`);
  lines.push('');
  lines.push(
    `cost model: conservative static estimate, every list of the object up to ${ESTIMATE_LIST_SIZE} entries (${ESTIMATE_NESTED_LIST_SIZE} in lists nested in lists) and every string up to ${ESTIMATE_STRING_LENGTH} characters; the API server enforces the real cost at run time (an evaluation over the limit fails, and failurePolicy Fail denies the request)`,
  );
  return lines.join('\n') + '\n';
}
