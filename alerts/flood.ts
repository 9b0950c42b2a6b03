// Flood control: at most `limitPerMinute` alerts of one (source, type, user) are stored per minute;
// the rest are counted into one `alert-flood` alert for that triple (its count is the number held
// back, its evidence a sample of what they were), so a pod or client producing thousands of alerts
// can neither fill the store nor evict other alerts, and still shows as one high-signal alert. The
// user is part of the key: one identity's flood never holds back another's alerts of the same type
// (an attacker cannot bury a colleague's real alert by raising the same type first). Every alert
// held back is still written to the log.
import { newAlert, type Alert } from './model.js';

export const ALERT_FLOOD = 'alert-flood';
export const DEFAULT_FLOOD_LIMIT_PER_MINUTE = 600;
const WINDOW_MS = 60_000;
/** Pairs tracked at most (types come from Bulwark's own rules; bounded all the same). */
const MAX_KEYS = 10_000;

export const FLOOD_META = {
  id: ALERT_FLOOD,
  title: 'Alert flood held back',
  severity: 'medium' as const,
  tactics: ['Defense Evasion', 'Impact'],
  remediation:
    'Find what raises the flood (the sample names the resource and user): a misbehaving controller, or someone burying a real alert under noise. Fix or stop it, then review the alerts of that type around the flood; raise store.floodLimit only if the rate is legitimate.',
};

export class FloodGuard {
  private readonly windows = new Map<string, { start: number; n: number }>();

  constructor(private readonly limitPerMinute: number | undefined) {}

  /** Whether `alert` may be stored now; false when its (source, type, user) is over the limit this minute. */
  admit(alert: Alert, now = Date.now()): boolean {
    // Background alerts are bounded by the objects in the cluster and raised once per object (the
    // scan asks the store first): a first scan of a large cluster is not a flood to hold back.
    if (this.limitPerMinute === undefined || alert.type === ALERT_FLOOD || alert.source === 'background') return true;
    const key = `${alert.source}\u0000${alert.type}\u0000${alert.user?.username ?? ''}`;
    let w = this.windows.get(key);
    if (!w || now - w.start >= WINDOW_MS) {
      if (!w && this.windows.size >= MAX_KEYS) this.windows.clear();
      w = { start: now, n: 0 };
      this.windows.set(key, w);
    }
    w.n++;
    return w.n <= this.limitPerMinute;
  }
}

/** The `alert-flood` alert standing for one held-back alert (merged by the store into one per source, type and user). */
export function floodAlert(held: Alert, limitPerMinute: number): Alert {
  return newAlert({
    type: ALERT_FLOOD,
    title: `${FLOOD_META.title}: ${held.type} from ${held.source}${held.user?.username ? ` by ${held.user.username}` : ''}`,
    severity: FLOOD_META.severity,
    source: held.source,
    firstSeen: held.lastSeen,
    namespace: '',
    // One alert per (source, type, user): the fingerprint is made of these fields.
    resource: { group: 'bulwark.io', version: 'v1', kind: 'AlertType', name: `${held.source}/${held.type}` },
    user: { username: held.user?.username ?? '', groups: [] },
    message: `more than ${limitPerMinute} ${held.type} alerts a minute from ${held.source}${held.user?.username ? ` by ${JSON.stringify(held.user.username)}` : ''}: the excess is counted here, not stored one by one (each is in the log)`,
    evidence: {
      source: held.source,
      type: held.type,
      limitPerMinute,
      sample: { namespace: held.namespace, resource: held.resource, user: held.user?.username, message: held.message },
    },
    tactics: FLOOD_META.tactics,
    remediation: FLOOD_META.remediation,
  });
}
