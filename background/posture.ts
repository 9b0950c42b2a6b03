// The console's posture page from a background evaluation: the PolicyReports' results by namespace
// and by policy, and what enforce mode would deny (every object judged again with mode enforce).
import { MAX_POSTURE_RESULTS, type PostureResult, type PostureSnapshot } from '../alerts/posture.js';
import type { JudgedObject } from './judge.js';
import type { PolicyReport } from './policyreport.js';

export function postureOf(
  reports: readonly PolicyReport[],
  underEnforce: readonly JudgedObject[],
  modes: ReadonlyMap<string, string>,
  evaluatedAt: Date,
): PostureSnapshot {
  const namespaces = new Map<string, PostureSnapshot['namespaces'][number]>();
  const scope = (ns: string) => {
    let entry = namespaces.get(ns);
    if (!entry) {
      const mode = modes.get(ns);
      namespaces.set(ns, (entry = { namespace: ns, ...(mode ? { mode } : {}), fail: 0, warn: 0, error: 0, wouldDeny: 0 }));
    }
    return entry;
  };
  const policies = new Map<string, PostureSnapshot['policies'][number]>();
  const results: PostureResult[] = [];
  let omitted = 0;
  for (const report of reports) {
    const entry = scope(report.metadata.namespace ?? '');
    entry.fail += report.summary.fail;
    entry.warn += report.summary.warn;
    entry.error += report.summary.error;
    for (const r of report.results) {
      if (r.result !== 'fail' && r.result !== 'warn' && r.result !== 'error') continue;
      let p = policies.get(r.policy);
      if (!p) policies.set(r.policy, (p = { policy: r.policy, category: r.category, severity: r.severity, fail: 0, warn: 0, error: 0 }));
      p[r.result]++;
      const resource = r.resources[0];
      if (!resource) continue;
      if (results.length >= MAX_POSTURE_RESULTS) {
        omitted++;
        continue;
      }
      results.push({
        namespace: resource.namespace ?? '',
        apiVersion: resource.apiVersion,
        kind: resource.kind,
        name: resource.name,
        policy: r.policy,
        result: r.result,
        severity: r.severity,
        message: r.message,
      });
    }
    // Results a report dropped past its bound still count in its summary.
    const dropped = Number(report.metadata.annotations?.['bulwark.io/results-dropped'] ?? 0);
    if (Number.isFinite(dropped)) omitted += dropped;
  }
  const wouldDeny: PostureSnapshot['wouldDeny'] = [];
  for (const j of underEnforce) {
    if (j.outcome !== 'denied') continue;
    scope(j.namespace).wouldDeny++;
    if (wouldDeny.length < MAX_POSTURE_RESULTS)
      wouldDeny.push({
        namespace: j.namespace,
        kind: j.kind,
        name: j.name,
        policies: [...new Set(j.findings.filter((f) => f.action === 'enforce').map((f) => f.policy))],
      });
  }
  return {
    evaluatedAt: evaluatedAt.toISOString(),
    namespaces: [...namespaces.values()].sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0)),
    policies: [...policies.values()].sort((a, b) => b.fail - a.fail || b.warn - a.warn || (a.policy < b.policy ? -1 : 1)),
    results,
    omitted,
    wouldDeny,
  };
}
