// Alerts for what already runs: each object the background scan judges risky raises the alert that
// admission would raise for its creation (source `background`), once per object — across restarts
// and replicas, because the store is asked which background alerts are open before raising — and
// the alert is resolved by the scan itself when the object is fixed or deleted. An alert a person
// dismissed stays dismissed while the object stays as it is.
import type { Alert, AlertSink } from '../alerts/model.js';
import { fingerprintOf, newAlert } from '../alerts/model.js';
import type { AlertFilter, AlertStore } from '../alerts/store.js';
import type { CompiledConfig } from '../policies/config.js';
import type { AdmissionRequest } from '../webhook/admission.js';
import type { Decision } from '../webhook/decide.js';
import { decisionAlert } from '../webhook/decision-alert.js';
import { groupVersion, type JudgedObject } from './judge.js';

/** Who the status history names when the scan resolves an alert. */
export const BACKGROUND_ACTOR = 'bulwark-background-scan';
const RESOLVED_REASON = 'the object was fixed or deleted (background scan)';
/** Background alerts looked at per evaluation at most (pages of 500). */
const MAX_KNOWN = 100_000;

/** The alert admission would raise for creating the judged object, as found by the scan. */
export function backgroundAlert(j: JudgedObject, compiled: CompiledConfig, now: Date): Alert {
  const { group, version } = groupVersion(j.apiVersion);
  const decision: Decision = {
    outcome: j.outcome,
    response: undefined,
    findings: j.findings,
    errors: [],
    namespace: j.namespace,
    kind: j.kind,
    ...(j.omitted ? { omitted: j.omitted } : {}),
  };
  const request: AdmissionRequest = {
    uid: j.uid,
    kind: { group, version, kind: j.kind },
    resource: { group, version, resource: '' },
    operation: 'CREATE',
    userInfo: {},
  };
  const alert = newAlert({ ...decisionAlert(decision, request, compiled, j.name, now, 'background'), user: { username: '', groups: [] } });
  // The scan sees the object, not a request: no request uid, and the object's uid instead.
  const { uid: _uid, operation: _op, ...evidence } = alert.evidence;
  alert.evidence = { ...evidence, objectUid: j.uid };
  return alert;
}

export interface BackgroundAlertResult {
  raised: number;
  resolved: number;
}

/**
 * Brings the store in line with one evaluation: raises an alert for each risky object that has no
 * background alert open or dismissed (same fingerprint), and resolves each open background alert
 * whose object is no longer risky. Only the Lease holder calls it.
 */
export async function syncBackgroundAlerts(
  judged: readonly JudgedObject[],
  compiled: CompiledConfig,
  sink: AlertSink,
  store: AlertStore,
  now = new Date(),
  /** This cluster's name (a shared store holds other clusters' background alerts, left alone). */
  cluster?: string,
): Promise<BackgroundAlertResult> {
  const wanted = new Map<string, Alert>();
  for (const j of judged) {
    if ((j.outcome !== 'denied' && j.outcome !== 'warned' && j.outcome !== 'audited') || j.findings.length === 0) continue;
    const alert = backgroundAlert(j, compiled, now);
    if (cluster) {
      alert.cluster = cluster;
      alert.fingerprint = fingerprintOf(alert);
    }
    wanted.set(alert.fingerprint, alert);
  }
  const { open, dismissed } = await knownAlerts(store, cluster ?? '');
  let raised = 0;
  for (const [fingerprint, alert] of wanted) {
    if (open.has(fingerprint) || dismissed.has(fingerprint)) continue;
    await sink.record(alert);
    raised++;
  }
  let resolved = 0;
  for (const [fingerprint, alerts] of open) {
    if (wanted.has(fingerprint)) continue;
    for (const alert of alerts) {
      await store.setStatus(alert.id, 'resolved', BACKGROUND_ACTOR, RESOLVED_REASON);
      resolved++;
    }
  }
  return { raised, resolved };
}

/** The background alerts that are open (by fingerprint) and the fingerprints a person dismissed. */
async function knownAlerts(store: AlertStore, cluster: string): Promise<{ open: Map<string, Alert[]>; dismissed: Set<string> }> {
  const open = new Map<string, Alert[]>();
  const dismissed = new Set<string>();
  const filter: AlertFilter = { source: ['background'], status: ['active', 'in-progress', 'dismissed'], cluster: [cluster] };
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await store.list(filter, cursor, 500);
    for (const a of page.items) {
      if (a.status === 'dismissed') dismissed.add(a.fingerprint);
      else open.set(a.fingerprint, [...(open.get(a.fingerprint) ?? []), a]);
    }
    seen += page.items.length;
    cursor = page.nextCursor;
  } while (cursor && seen < MAX_KNOWN);
  return { open, dismissed };
}
