// wgpolicyk8s.io/v1alpha2 PolicyReports from judged objects: one `PolicyReport` named `bulwark` per
// namespace and one `ClusterPolicyReport` named `bulwark` for cluster-scoped objects. Bounded:
// only fail/warn results unless includePass, at most maxResults per report: the summary still
// counts every result, the annotation `bulwark.io/results-dropped` says how many are not listed.
import type { Action } from '../policies/config.js';
import { allPolicyMetas } from '../policies/registry.js';
import type { CheckMeta } from '../policies/types.js';
import type { Severity } from '../core/severity.js';

export const REPORT_NAME = 'bulwark';
export const REPORT_API_VERSION = 'wgpolicyk8s.io/v1alpha2';
export const REPORT_SOURCE = 'bulwark';
export const DEFAULT_MAX_RESULTS = 1000;

export type ReportResult = 'pass' | 'fail' | 'warn' | 'error' | 'skip';

/** One object and what was found on it, whatever read it (files, the cluster, the informers). */
export interface ReportSubject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  findings: readonly { policy: string; severity: Severity; message: string; action?: Action | undefined }[];
  /** Policies that threw on the object. */
  errors?: readonly { policy: string; message: string }[];
  /** The policies that were evaluated on it (for pass results). */
  evaluated?: readonly string[];
}

export interface PolicyReportResult {
  policy: string;
  rule: string;
  result: ReportResult;
  severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  category: string;
  message: string;
  resources: { apiVersion: string; kind: string; namespace?: string; name: string; uid?: string }[];
  timestamp: { seconds: number; nanos: number };
  source: string;
  scored: boolean;
}

export interface PolicyReport {
  apiVersion: typeof REPORT_API_VERSION;
  kind: 'PolicyReport' | 'ClusterPolicyReport';
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations?: Record<string, string> };
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results: PolicyReportResult[];
}

export interface ReportOptions {
  includePass?: boolean;
  maxResultsPerReport?: number;
  now?: Date;
}

/** The policy-report severities: Bulwark's `informational` is `info`. */
function reportSeverity(s: Severity): PolicyReportResult['severity'] {
  return s === 'informational' ? 'info' : s;
}

let metas: Map<string, CheckMeta> | undefined;
/** defender | pss-baseline | pss-restricted: the profile a policy belongs to. */
export function categoryOf(policy: string): string {
  metas ??= allPolicyMetas();
  const level = (metas.get(policy) as (CheckMeta & { level?: string }) | undefined)?.level;
  return level === 'baseline' || level === 'restricted' ? `pss-${level}` : 'defender';
}

/** fail for what admission denies or audits, warn for what it only warns about. */
export function resultOfAction(action: Action | undefined): ReportResult {
  return action === 'warn' ? 'warn' : 'fail';
}

/** The reports for a set of judged objects, namespaced ones by namespace. Deterministic order. */
export function buildPolicyReports(subjects: readonly ReportSubject[], opts: ReportOptions = {}): { reports: PolicyReport[]; overflow: number } {
  const max = opts.maxResultsPerReport ?? DEFAULT_MAX_RESULTS;
  const now = opts.now ?? new Date();
  const timestamp = { seconds: Math.floor(now.getTime() / 1000), nanos: (now.getTime() % 1000) * 1_000_000 };
  const byScope = new Map<string, ReportSubject[]>();
  for (const s of subjects) {
    const key = s.namespace;
    let list = byScope.get(key);
    if (!list) byScope.set(key, (list = []));
    list.push(s);
  }
  const reports: PolicyReport[] = [];
  let overflow = 0;
  for (const scope of [...byScope.keys()].sort()) {
    const report = emptyReport(scope);
    for (const s of byScope.get(scope)!) {
      const resource = {
        apiVersion: s.apiVersion,
        kind: s.kind,
        ...(s.namespace ? { namespace: s.namespace } : {}),
        name: s.name,
        ...(s.uid ? { uid: s.uid } : {}),
      };
      const add = (policy: string, result: ReportResult, severity: Severity, message: string): void => {
        report.summary[result]++;
        if (report.results.length >= max) {
          overflow++;
          return;
        }
        report.results.push({
          policy,
          rule: policy,
          result,
          severity: reportSeverity(severity),
          category: categoryOf(policy),
          message,
          resources: [resource],
          timestamp,
          source: REPORT_SOURCE,
          scored: true,
        });
      };
      const failed = new Set<string>();
      for (const f of s.findings) {
        failed.add(f.policy);
        add(f.policy, resultOfAction(f.action), f.severity, `[${f.policy}] ${f.message}`);
      }
      for (const e of s.errors ?? []) {
        failed.add(e.policy);
        add(e.policy, 'error', 'high', `[${e.policy}] the check failed on this object: ${e.message}`);
      }
      if (opts.includePass) {
        for (const policy of s.evaluated ?? []) {
          if (failed.has(policy)) continue;
          metas ??= allPolicyMetas();
          add(policy, 'pass', metas.get(policy)?.severity ?? 'informational', `[${policy}] passed`);
        }
      }
    }
    const dropped = report.summary.pass + report.summary.fail + report.summary.warn + report.summary.error + report.summary.skip - report.results.length;
    if (dropped > 0) report.metadata.annotations = { 'bulwark.io/results-dropped': String(dropped) };
    reports.push(report);
  }
  return { reports, overflow };
}

function emptyReport(namespace: string): PolicyReport {
  return {
    apiVersion: REPORT_API_VERSION,
    kind: namespace ? 'PolicyReport' : 'ClusterPolicyReport',
    metadata: { name: REPORT_NAME, ...(namespace ? { namespace } : {}), labels: { 'app.kubernetes.io/managed-by': 'bulwark' } },
    summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
    results: [],
  };
}
