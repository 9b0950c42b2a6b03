// One field, one line: when a `defender` check and a Pod Security Standards check judge the same
// field (privileged, host namespaces), both report it with the same path. Shown to a person
// (admission warnings and denials, `scan`'s table), the two become one line that names both IDs:
//   [privileged-container] container "shell" must not set securityContext.privileged=true (also pss-privileged)
// Machine outputs (scan JSON, SARIF, PolicyReports, alerts) keep one finding per policy, since
// each policy has its own action, exceptions and report entry.
import { SEVERITY_RANK } from '../core/severity.js';
import type { Finding } from './types.js';

export type ShownFinding<F extends Finding> = F & { also?: string[] };

const isPss = (policy: string): boolean => policy.startsWith('pss-');

/**
 * The findings with each defender/PSS pair on one path folded into the first of them (input order
 * is kept, so a caller that sorts strongest first keeps the strongest ID in front); the others'
 * IDs go to `also`, the severity is the highest of the group. Linear in the number of findings.
 */
export function foldSameField<F extends Finding>(findings: readonly F[]): ShownFinding<F>[] {
  if (findings.length < 2) return findings as ShownFinding<F>[];
  const first = new Map<string, ShownFinding<F>>();
  const out: ShownFinding<F>[] = [];
  for (const f of findings) {
    const lead = f.path ? first.get(f.path) : undefined;
    if (lead && lead.policy !== f.policy && isPss(lead.policy) !== isPss(f.policy) && !lead.also?.some((p) => isPss(p) === isPss(f.policy))) {
      (lead.also ??= []).push(f.policy);
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[lead.severity]) lead.severity = f.severity;
      continue;
    }
    const shown: ShownFinding<F> = { ...f };
    if (f.path && !lead) first.set(f.path, shown);
    out.push(shown);
  }
  return out;
}

/** `[id] sentence (also other-id)`: the one-line form of a shown finding. */
export function findingLine(f: ShownFinding<Finding>): string {
  return `[${f.policy}] ${f.message}${f.also ? ` (also ${f.also.join(', ')})` : ''}`;
}
