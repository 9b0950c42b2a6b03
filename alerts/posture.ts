// The cluster's posture as the console shows it: what the background scan found, from the same
// results as the PolicyReports it writes, and what enforce mode would deny in each namespace.
// The background scanner (background/posture.ts) fills it; the alerts API serves it.

export interface PostureResult {
  /** '' for cluster-scoped objects. */
  namespace: string;
  apiVersion: string;
  kind: string;
  name: string;
  policy: string;
  result: 'fail' | 'warn' | 'error';
  severity: string;
  message: string;
}

export interface PostureSnapshot {
  /** When the scan's last evaluation finished. */
  evaluatedAt: string;
  /** Per PolicyReport scope ('' is the ClusterPolicyReport), sorted by name. */
  namespaces: {
    namespace: string;
    /** The namespace's `bulwark.io/mode` label, when set. */
    mode?: string;
    fail: number;
    warn: number;
    error: number;
    /** Objects that admission would deny if the namespace were in enforce mode. */
    wouldDeny: number;
  }[];
  /** Per policy across the cluster, most failures first (from the results the reports list: a report past its bound lists fewer). */
  policies: { policy: string; category: string; severity: string; fail: number; warn: number; error: number }[];
  /** The failing and warning results, at most MAX_POSTURE_RESULTS (the counts above are whole). */
  results: PostureResult[];
  /** Results left out of `results` past the bound. */
  omitted: number;
  /** What enforce mode would deny: the objects, at most MAX_POSTURE_RESULTS, with the policies that deny each. */
  wouldDeny: { namespace: string; kind: string; name: string; policies: string[] }[];
}

export const MAX_POSTURE_RESULTS = 5000;

/** Where the API reads posture: undefined while the scan has not finished a first evaluation. */
export interface PostureSource {
  posture(): PostureSnapshot | undefined;
  /** false while no scan runs (off, or no cluster); default true. */
  enabled?(): boolean;
}
