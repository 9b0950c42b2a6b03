// The alert: one model for admission and audit, as DESIGN.md's contract lists its fields.
import { createHash, randomUUID } from 'node:crypto';
import type { Severity } from '../core/severity.js';
import { boundedMemo } from '../core/memo.js';

export type AlertSource = 'admission' | 'audit' | 'background';
export type AlertStatus = 'active' | 'in-progress' | 'resolved' | 'dismissed';
export const ALERT_STATUSES: readonly AlertStatus[] = ['active', 'in-progress', 'resolved', 'dismissed'];

export interface AlertUser {
  username: string;
  groups: string[];
  /** When the request was impersonated: the impersonator (audit `user`); `username` is then the effective user. */
  impersonator?: { username: string; groups: string[] };
}

export interface StatusChange {
  from: AlertStatus;
  to: AlertStatus;
  by: string;
  at: string;
  reason: string;
}

export interface LaterEvidence {
  /** lastSeen of that occurrence. */
  at: string;
  /** Its message, when it differs from the first occurrence's. */
  message?: string;
  /** Its evidence, at most 4 KiB of JSON (else `{truncated, bytes}`). */
  evidence: Record<string, unknown>;
  userAgent?: string;
}

export interface Alert {
  id: string;
  type: string;
  title: string;
  severity: Severity;
  source: AlertSource;
  firstSeen: string;
  lastSeen: string;
  count: number;
  namespace: string;
  resource: { group: string; version: string; kind: string; name: string };
  user: AlertUser;
  sourceIPs: string[];
  userAgent: string;
  auditIDs: string[];
  message: string;
  evidence: Record<string, unknown>;
  tactics: string[];
  remediation: string;
  status: AlertStatus;
  /** Who moved the alert between statuses, when and why (alerts API). */
  history: StatusChange[];
  /** De-duplication key: same type, resource, namespace and user. */
  fingerprint: string;
  /** The `cluster.name` of the configuration that raised it, when set. */
  cluster?: string;
  /** Later occurrences of a merged alert, the most recent first-kept-last (the first occurrence's message and evidence stay above). */
  laterEvidence?: LaterEvidence[];
  /**
   * false when the alert came through an unauthenticated route (`/audit` without a token or client
   * certificate, admission without mTLS): anyone who can reach the port could have forged it.
   */
  verified?: boolean;
  /** Event times that claimed to be in the future, as claimed; the alert's own are clamped to receipt + 5 min. */
  timeClamped?: { firstSeen?: string; lastSeen?: string };
}

/** Fields a producer fills; the rest get defaults from newAlert. */
export type AlertInput = Omit<Alert, 'id' | 'count' | 'status' | 'history' | 'fingerprint' | 'auditIDs' | 'sourceIPs' | 'userAgent' | 'evidence' | 'lastSeen'> &
  Partial<Pick<Alert, 'count' | 'auditIDs' | 'sourceIPs' | 'userAgent' | 'evidence' | 'lastSeen'>>;

/**
 * The de-duplication key of DESIGN.md: type, resource, namespace, user — and the cluster, when
 * the alert names one, so that many clusters can share one store (an alert without a cluster keeps
 * the key it always had).
 */
export function fingerprintOf(a: Pick<Alert, 'type' | 'namespace' | 'resource' | 'user' | 'cluster'>): string {
  const parts = [a.type, a.namespace, a.resource.group, a.resource.kind, a.resource.name, a.user.username];
  if (typeof a.cluster === 'string' && a.cluster !== '') parts.push(a.cluster);
  return shortHash(parts.join('\u0000'));
}

/**
 * The first 32 hex digits of the SHA-256 of `key`. Remembered (bounded): the same alert repeats
 * (an audit scan builds one per occurrence, most of them merged), and hashing costs more than the
 * rest of building it.
 */
export const shortHash: (key: string) => string = boundedMemo((key) => createHash('sha256').update(key).digest('hex').slice(0, 32), 4096, 512);

/** Alert fields no producer must set: copied from the input when it has them. */
const OPTIONAL_KEYS = ['cluster', 'laterEvidence', 'verified', 'timeClamped'] as const;

export function newAlert(input: AlertInput): Alert {
  // The defaults, then whatever the input sets (an explicit undefined included), in the key order a
  // spread of the input over the defaults gives — without the spread's cost.
  const alert: Alert = {
    id: randomUUID(),
    count: 'count' in input ? input.count! : 1,
    auditIDs: 'auditIDs' in input ? input.auditIDs! : [],
    sourceIPs: 'sourceIPs' in input ? input.sourceIPs! : [],
    userAgent: 'userAgent' in input ? input.userAgent! : '',
    evidence: 'evidence' in input ? input.evidence! : {},
    lastSeen: 'lastSeen' in input ? input.lastSeen! : input.firstSeen,
    status: 'active',
    history: [],
    fingerprint: '',
    type: input.type,
    title: input.title,
    severity: input.severity,
    source: input.source,
    firstSeen: input.firstSeen,
    namespace: input.namespace,
    resource: input.resource,
    user: input.user,
    message: input.message,
    tactics: input.tactics,
    remediation: input.remediation,
  };
  for (const key of OPTIONAL_KEYS) if (key in input) (alert as unknown as Record<string, unknown>)[key] = (input as Record<string, unknown>)[key];
  alert.fingerprint = fingerprintOf(alert);
  return alert;
}

/** Where alerts go: the pino log, a store, or both through the pipeline. */
export interface AlertSink {
  /** Records one alert. Resolves once it is durable where the sink keeps things. */
  record(alert: Alert): Promise<void>;
  /** Records several at once (one store transaction), in order; a sink without it gets record() each. */
  recordMany?(alerts: readonly Alert[]): Promise<void>;
}
