// Where alerts are kept: one interface, two implementations (embedded SQLite, PostgreSQL),
// and the rules both share — de-duplication merge, status changes, cursors — so that the
// two stores cannot drift apart in behaviour. The shared test suite pins them together.
import { SEVERITY_RANK, type Severity } from '../core/severity.js';
import { ALERT_STATUSES, fingerprintOf, type Alert, type AlertSource, type AlertStatus } from './model.js';
import { boundEvidence } from './bound.js';
import type { AlertSort } from './query.js';

export interface AlertFilter {
  severity?: Severity[];
  /** Alerts at or above this severity. */
  minSeverity?: Severity;
  type?: string[];
  status?: AlertStatus[];
  namespace?: string[];
  source?: AlertSource[];
  /** Alerts last seen at or after this instant. */
  since?: Date;
  /** Alerts last seen before this instant. */
  until?: Date;
  /** Alerts whose search text (query.ts searchTextOf) contains this, case-insensitively. */
  text?: string;
  /** Alerts of these clusters (`cluster.name`; '' for alerts that name none). */
  cluster?: string[];
}

/** Counts of the alerts a filter matches. */
export interface AlertSummary {
  total: number;
  bySeverity: Partial<Record<Severity, number>>;
  byStatus: Partial<Record<AlertStatus, number>>;
}

/** One value and how many alerts have it. */
export interface Tally {
  key: string;
  count: number;
}

/** Alerts over time: first seen per UTC day by severity, and the top types, users and source IPs. */
export interface AlertTrends {
  /** From `sinceMs` (a UTC midnight), one entry per day, oldest first, days without alerts included. */
  days: { day: string; bySeverity: Partial<Record<Severity, number>> }[];
  types: Tally[];
  users: Tally[];
  sourceIPs: Tally[];
}

/** The values seen in the store, for filter choices (at most MAX_FACETS each, most frequent first). */
export interface AlertFacets {
  types: string[];
  namespaces: string[];
  clusters: string[];
}
export const MAX_FACETS = 500;
export const MAX_TREND_DAYS = 366;

export interface AlertPage {
  items: Alert[];
  /** Opaque; pass back to list() for the next page. Absent on the last page. */
  nextCursor?: string;
}

export interface Retention {
  /**
   * Delete alerts the store has not written for longer than this (by the store's clock: when the
   * alert was stored, merged into or changed status), never by the event time inside it, so a
   * back-filled year-old audit log keeps its alerts.
   */
  maxAgeMs?: number;
  /**
   * Keep at most this many alerts: the lowest severity goes first, the least recently written
   * first within a severity, so low alerts never push out high ones.
   */
  maxCount?: number;
  /**
   * Occurrence claims kept at most (default MAX_CLAIMS), the newest: claims come from fields a
   * sender chooses (audit IDs), so their number is bounded as well as their age.
   */
  maxClaims?: number;
}

/** The operation that marks an account's first event in the baseline (its learning window starts there). */
export const ACCOUNT_MARKER = '';

/** One learned fact as a store keeps it: `operation` ACCOUNT_MARKER is the account's first event. */
export interface BaselineEntry {
  account: string;
  operation: string;
  /** Event time (ms) the fact was first seen. */
  firstSeenMs: number;
  /** When the store wrote it (the store's clock, ms); set on entries read back. */
  storedMs?: number;
}

/** Where a cursor of loadBaseline continues: after this entry in (storedMs, account, operation) order. */
export interface BaselineCursor {
  storedMs: number;
  account: string;
  operation: string;
}

/** The part of the alert store that keeps the service-account baseline (audit/anomaly.ts); both backends implement it. */
export interface BaselineStore {
  /** Adds facts; a fact already stored keeps the earlier firstSeenMs. */
  recordBaseline(entries: readonly BaselineEntry[]): Promise<void>;
  /**
   * Facts the store wrote at or after `sinceMs` (its own clock), in (storedMs, account, operation)
   * order, at most `limit`, continuing after `after`; `nowMs` is the store's clock when read.
   */
  loadBaseline(sinceMs: number, after: BaselineCursor | undefined, limit: number): Promise<{ entries: BaselineEntry[]; nowMs: number }>;
}

/**
 * The entries to write, one per (account, operation) with the earliest firstSeenMs (one statement
 * must not touch a row twice), with bounded text: a fact is never longer than the baseline makes it.
 */
export function baselineRows(entries: readonly BaselineEntry[]): BaselineEntry[] {
  const byKey = new Map<string, BaselineEntry>();
  for (const e of entries) {
    if (typeof e.account !== 'string' || typeof e.operation !== 'string' || !Number.isFinite(e.firstSeenMs)) continue;
    if (e.account.length > 512 || e.operation.length > 512) continue;
    const key = e.account + '\u0000' + e.operation;
    const seen = byKey.get(key);
    if (seen === undefined || e.firstSeenMs < seen.firstSeenMs)
      byKey.set(key, { account: e.account, operation: e.operation, firstSeenMs: Math.floor(e.firstSeenMs) });
  }
  return [...byKey.values()];
}

/** One pending delivery of an alert to a notification sink (alerts/notify.ts): the outbox. */
export interface OutboxEntry {
  id: number;
  sink: string;
  /** The alert as it was first stored (JSON). */
  alert: Alert;
  attempts: number;
  /** When it was queued (the store's clock, ms). */
  createdMs: number;
  lastError: string;
}

/** The outbox: deliveries queued in the same transaction as the alert they carry. */
export interface OutboxStore {
  /**
   * Up to `limit` deliveries due at `nowMs`, each leased to the caller for `leaseMs` (another
   * process does not get it until then): oldest first.
   */
  claimOutbox(nowMs: number, limit: number, leaseMs: number): Promise<OutboxEntry[]>;
  /** Delivered: gone from the outbox. */
  completeOutbox(id: number): Promise<void>;
  /** Not delivered: tried again at `nextAttemptMs`, with the reason kept (bounded). */
  failOutbox(id: number, error: string, nextAttemptMs: number): Promise<void>;
  /**
   * Deliveries queued before `beforeMs`, and a sink's oldest beyond its newest `maxPerSink`, are
   * given up; resolves to how many per sink.
   */
  expireOutbox(beforeMs: number, maxPerSink?: number): Promise<Record<string, number>>;
  /** Pending deliveries per sink, and the oldest one's queue time. */
  outboxStats(): Promise<Record<string, { pending: number; oldestMs: number; failing: number }>>;
}

export const MAX_OUTBOX_ERROR = 512;

export interface AlertStore extends BaselineStore, OutboxStore {
  /**
   * Merges `alert` into the open alert (active or in-progress) with the same fingerprint last
   * seen within `windowMs` of it, or inserts it. Atomic under concurrent writers. Resolves to
   * the stored alert once it is durable. When the alert is new (not merged), a delivery to each
   * sink of `notify` is queued in the outbox in the same transaction.
   */
  upsert(alert: Alert, windowMs: number, notify?: readonly string[]): Promise<Alert>;
  /**
   * upsert for many alerts in one transaction (one commit, so one fsync): each is merged or
   * inserted as upsert would, in order, a later one merging into an earlier one of the batch.
   */
  upsertMany(alerts: readonly Alert[], windowMs: number, notify?: NotifyTargets): Promise<Alert[]>;
  get(id: string): Promise<Alert | undefined>;
  /** Ordered by `sort` (default lastSeen descending), then lastSeen, then id: stable across pages. */
  list(filter: AlertFilter, cursor: string | undefined, limit: number, sort?: AlertSort): Promise<AlertPage>;
  /** How many alerts `filter` matches, in all and by severity and status. */
  summary(filter: AlertFilter): Promise<AlertSummary>;
  /** Trends of alerts first seen in [sinceMs, untilMs): per day by severity, and the top `top` of each tally. */
  trends(sinceMs: number, untilMs: number, top: number): Promise<AlertTrends>;
  facets(): Promise<AlertFacets>;
  /** Moves an alert to another status and appends the history entry. */
  setStatus(id: string, to: AlertStatus, by: string, reason: string): Promise<Alert>;
  /** Applies retention; resolves to the number of alerts deleted. */
  prune(retention: Retention, now?: number): Promise<number>;
  close(): Promise<void>;
  /** `sqlite:/path/to.db` or `postgres://user@host/db` (no password), for logs. */
  readonly description: string;
}

/** How long a claim (claimKeysOf) is kept: longer than any request's stages are apart. */
export const CLAIM_TTL_MS = 24 * 3_600_000;
export const MAX_CLAIM_KEY = 512;
export const MAX_CLAIMS = 1_000_000;

/**
 * The occurrences an alert stands for, as keys no other replica's alert may record again: one per
 * audit ID (for audit alerts) or the AdmissionReview uid (admission), with the type, and whether
 * the source was authenticated, so that a forged unauthenticated event cannot claim a real
 * request's alert first. Stores record them in the alert's transaction: when every key of an
 * alert is already claimed (another replica saw another stage of the same request, or the same
 * review twice), the alert is not counted again.
 */
export function claimKeysOf(alert: Alert): string[] {
  return claimsOf(alert).map((c) => c.key);
}

function claimsOf(alert: Alert): { key: string; auditID?: string }[] {
  const trust = alert.verified === false ? 'u' : 'v';
  const claims: { key: string; auditID?: string }[] = [];
  if (alert.source === 'audit') {
    for (const id of alert.auditIDs ?? []) if (typeof id === 'string' && id !== '') claims.push({ key: `a:${trust}:${alert.type}:${id}`, auditID: id });
  } else if (alert.source === 'admission') {
    const uid = (alert.evidence as { uid?: unknown } | undefined)?.uid;
    if (typeof uid === 'string' && uid !== '') claims.push({ key: `r:${trust}:${alert.type}:${uid}` });
  }
  return claims.filter((c) => c.key.length <= MAX_CLAIM_KEY);
}

/**
 * The alert without the occurrences already claimed (`fresh`: the keys this write claimed): an
 * alert that stands for several requests (merged in a replica's retry queue while the store was
 * down) keeps only the ones no one recorded yet, and its count drops by as many. Undefined when
 * it claims occurrences and every one was recorded before: the alert that holds them stands.
 */
export function withoutClaimed(alert: Alert, fresh: ReadonlySet<string>): Alert | undefined {
  const claims = claimsOf(alert);
  const taken = claims.filter((c) => !fresh.has(c.key));
  if (taken.length === 0) return alert;
  if (taken.length === claims.length) return undefined;
  const gone = new Set(taken.map((c) => c.auditID).filter((id): id is string => id !== undefined));
  return {
    ...alert,
    count: Math.max(1, alert.count - taken.length),
    auditIDs: gone.size > 0 ? alert.auditIDs.filter((id) => !gone.has(id)) : alert.auditIDs,
  };
}

/** The sinks a new alert is queued for: the same for every alert, or chosen per alert. */
export type NotifyTargets = readonly string[] | ((alert: Alert) => readonly string[]);

export function targetsOf(notify: NotifyTargets | undefined, alert: Alert): readonly string[] {
  return typeof notify === 'function' ? notify(alert) : (notify ?? []);
}

/** Open alerts are the ones new occurrences merge into. */
export const OPEN_STATUSES: readonly AlertStatus[] = ['active', 'in-progress'];
/** auditIDs kept per alert: the first ones (count still says how many occurrences there were). */
export const MAX_AUDIT_IDS = 100;
export const MAX_SOURCE_IPS = 100;
export const MAX_REASON_LENGTH = 1024;
export const DEFAULT_DEDUP_WINDOW_MS = 10 * 60_000;
/** Event times further in the future than this (against the store's clock) are not believed. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Later occurrences' evidence kept on a merged alert (the most recent ones), each at most LATER_EVIDENCE_BYTES of JSON. */
export const MAX_LATER_EVIDENCE = 10;
export const LATER_EVIDENCE_BYTES = 4096;

export class AlertNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`alert ${JSON.stringify(id)} not found`);
    this.name = 'AlertNotFoundError';
  }
}

/** A status change the rules forbid (same status, missing reason): the caller's mistake. */
export class StatusChangeError extends Error {
  constructor(
    message: string,
    readonly conflict = false,
  ) {
    super(message);
    this.name = 'StatusChangeError';
  }
}

export { type Cursor, decodeCursor, encodeCursor, InvalidCursorError } from './query.js';

export const DAY_MS = 86_400_000;

/** The day list of AlertTrends from per-day counts (`day` = whole days since `sinceMs`). */
export function trendDays(sinceMs: number, untilMs: number, rows: readonly { day: number; severity: string; n: number }[]): AlertTrends['days'] {
  const count = Math.max(0, Math.min(MAX_TREND_DAYS, Math.ceil((untilMs - sinceMs) / DAY_MS)));
  const days: AlertTrends['days'] = [];
  for (let i = 0; i < count; i++) days.push({ day: new Date(sinceMs + i * DAY_MS).toISOString().slice(0, 10), bySeverity: {} });
  for (const r of rows) {
    const d = days[Number(r.day)];
    if (d && r.severity in SEVERITY_RANK) d.bySeverity[r.severity as Severity] = (d.bySeverity[r.severity as Severity] ?? 0) + Number(r.n);
  }
  return days;
}

/** An AlertSummary from (severity, status, n) rows. */
export function summaryOf(rows: readonly { severity: string; status: string; n: number | string }[]): AlertSummary {
  const out: AlertSummary = { total: 0, bySeverity: {}, byStatus: {} };
  for (const r of rows) {
    const n = Number(r.n);
    out.total += n;
    out.bySeverity[r.severity as Severity] = (out.bySeverity[r.severity as Severity] ?? 0) + n;
    out.byStatus[r.status as AlertStatus] = (out.byStatus[r.status as AlertStatus] ?? 0) + n;
  }
  return out;
}

function isoOr(value: unknown, fallback: string): string {
  if (typeof value === 'string' || value instanceof Date) {
    const t = new Date(value).getTime();
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  return fallback;
}

function unionBounded(a: readonly string[], b: readonly string[], max: number): string[] {
  const out = new Set<string>();
  for (const list of [a, b]) {
    for (const v of list) {
      if (out.size >= max) return [...out];
      if (typeof v === 'string' && v !== '') out.add(v);
    }
  }
  return [...out];
}

/**
 * The alert as a store keeps it: a fingerprint, timestamps in one ISO form (ms precision, UTC,
 * so that they sort as text and compare as instants), a positive integer count, bounded lists.
 * Tolerant on purpose: a producer's odd field must not cost the alert.
 */
export function normaliseAlert(alert: Alert, now = Date.now()): Alert {
  let firstSeen = isoOr(alert.firstSeen, new Date(now).toISOString());
  let lastSeen = isoOr(alert.lastSeen, firstSeen);
  // A timestamp from the future (a forged or skewed event time) is clamped to the store's clock +
  // CLOCK_SKEW_MS, and the claimed value is kept beside it: it could otherwise keep an alert at
  // the top of every list and out of reach of retention.
  const latest = new Date(now + CLOCK_SKEW_MS).toISOString();
  let clamped: Alert['timeClamped'];
  if (firstSeen > latest) {
    clamped = { ...clamped, firstSeen };
    firstSeen = latest;
  }
  if (lastSeen > latest) {
    clamped = { ...clamped, lastSeen };
    lastSeen = latest;
  }
  if (lastSeen < firstSeen) lastSeen = firstSeen;
  const count = Number.isFinite(alert.count) && alert.count >= 1 ? Math.floor(alert.count) : 1;
  return {
    ...alert,
    firstSeen,
    lastSeen,
    count,
    status: (ALERT_STATUSES as readonly string[]).includes(alert.status) ? alert.status : 'active',
    auditIDs: unionBounded(alert.auditIDs ?? [], [], MAX_AUDIT_IDS),
    sourceIPs: unionBounded(alert.sourceIPs ?? [], [], MAX_SOURCE_IPS),
    history: Array.isArray(alert.history) ? alert.history : [],
    evidence: alert.evidence ?? {},
    fingerprint: alert.fingerprint || fingerprintOf(alert),
    ...(clamped ? { timeClamped: { ...alert.timeClamped, ...clamped } } : {}),
  };
}

/** Whether `incoming` is another occurrence of the open alert `stored`. */
export function mergesInto(stored: Alert, incoming: Alert, windowMs: number): boolean {
  return (
    stored.fingerprint === incoming.fingerprint &&
    OPEN_STATUSES.includes(stored.status) &&
    Date.parse(stored.lastSeen) >= Date.parse(incoming.firstSeen) - windowMs
  );
}

/** The earliest instant an open alert's lastSeen may have for `incoming` to merge into it. */
export function mergeHorizon(incoming: Alert, windowMs: number): number {
  return Date.parse(incoming.firstSeen) - windowMs;
}

/**
 * `incoming` merged into `stored`: counts add up, auditIDs and sourceIPs are unioned (bounded),
 * the time span widens, the severity is the higher one. What the first occurrence recorded stays
 * as it is — message, evidence, user agent — so a later occurrence (perhaps an attacker's, sent to
 * bury the first) can never rewrite it; later occurrences' messages and evidence are appended to
 * `laterEvidence`, the most recent MAX_LATER_EVIDENCE kept, each bounded.
 */
export function mergeAlerts(stored: Alert, incoming: Alert): Alert {
  const newer = incoming.lastSeen >= stored.lastSeen;
  const severity = SEVERITY_RANK[incoming.severity] > SEVERITY_RANK[stored.severity] ? incoming.severity : stored.severity;
  const later = [
    ...(stored.laterEvidence ?? []),
    {
      at: incoming.lastSeen,
      ...(incoming.message !== stored.message ? { message: incoming.message.slice(0, MAX_REASON_LENGTH) } : {}),
      evidence: boundEvidence(incoming.evidence, LATER_EVIDENCE_BYTES),
      ...(incoming.userAgent && incoming.userAgent !== stored.userAgent ? { userAgent: incoming.userAgent.slice(0, 256) } : {}),
    },
  ].slice(-MAX_LATER_EVIDENCE);
  return {
    ...stored,
    severity,
    count: stored.count + incoming.count,
    firstSeen: incoming.firstSeen < stored.firstSeen ? incoming.firstSeen : stored.firstSeen,
    lastSeen: newer ? incoming.lastSeen : stored.lastSeen,
    auditIDs: unionBounded(stored.auditIDs, incoming.auditIDs, MAX_AUDIT_IDS),
    sourceIPs: unionBounded(stored.sourceIPs, incoming.sourceIPs, MAX_SOURCE_IPS),
    laterEvidence: later,
    ...(incoming.timeClamped ? { timeClamped: { ...stored.timeClamped, ...incoming.timeClamped } } : {}),
  };
}

/** Checks a status change and returns the alert after it; throws StatusChangeError when the rules forbid it. */
export function applyStatusChange(alert: Alert, to: AlertStatus, by: string, reason: string, now = new Date()): Alert {
  if (!(ALERT_STATUSES as readonly string[]).includes(to)) {
    throw new StatusChangeError(`status must be one of ${ALERT_STATUSES.join(', ')}, got ${JSON.stringify(to)}`);
  }
  const trimmed = reason.trim();
  if (to === 'dismissed' && trimmed === '') throw new StatusChangeError('a reason is required to dismiss an alert');
  if (trimmed.length > MAX_REASON_LENGTH) throw new StatusChangeError(`reason is longer than ${MAX_REASON_LENGTH} characters`);
  if (alert.status === to) throw new StatusChangeError(`alert ${alert.id} is already ${to}`, true);
  return {
    ...alert,
    status: to,
    history: [...alert.history, { from: alert.status, to, by, at: now.toISOString(), reason: trimmed }],
  };
}

export function severitiesAtOrAbove(min: Severity): Severity[] {
  return (Object.keys(SEVERITY_RANK) as Severity[]).filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[min]);
}

export { SEVERITY_RANK };

export interface OpenStoreOptions {
  /** PostgreSQL only: the schema holding the table (default: the connection's search_path, normally public). */
  schema?: string;
  /** PostgreSQL only: pool size (default 10). */
  poolSize?: number;
}
