// The alerts API as the console calls it: same origin, the session cookie, and the console header
// that the server asks of every change made through the cookie.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Called once when the session turns out to be missing or over (any 401). */
let onSignedOut: () => void = () => undefined;
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json', 'X-Bulwark-Console': '1', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 204) return undefined as T;
  let data: unknown;
  try {
    data = await res.json();
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const message = (data as { error?: string } | undefined)?.error ?? `${res.status} ${res.statusText}`;
    if (res.status === 401 && path !== '/ui/session') onSignedOut();
    throw new ApiError(res.status, message);
  }
  return data as T;
}

export const get = <T>(path: string): Promise<T> => request<T>('GET', path);

export type Severity = 'informational' | 'low' | 'medium' | 'high';
export const SEVERITIES: Severity[] = ['high', 'medium', 'low', 'informational'];
export type Status = 'active' | 'in-progress' | 'resolved' | 'dismissed';
export const STATUSES: Status[] = ['active', 'in-progress', 'resolved', 'dismissed'];
export const SOURCES = ['admission', 'audit', 'background'];

export interface Alert {
  id: string;
  type: string;
  title: string;
  severity: Severity;
  source: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  namespace: string;
  resource: { group: string; version: string; kind: string; name: string };
  user: { username: string; groups: string[]; impersonator?: { username: string; groups: string[] } };
  sourceIPs: string[];
  userAgent: string;
  auditIDs: string[];
  message: string;
  evidence: Record<string, unknown>;
  tactics: string[];
  remediation: string;
  status: Status;
  history: { from: Status; to: Status; by: string; at: string; reason: string }[];
  fingerprint: string;
  cluster?: string;
  verified?: boolean;
  laterEvidence?: { at: string; message?: string; evidence: Record<string, unknown>; userAgent?: string }[];
  timeClamped?: { firstSeen?: string; lastSeen?: string };
}

export interface Whoami {
  username: string;
  groups: string[];
  canUpdate: boolean;
}

export interface Summary {
  total: number;
  bySeverity: Partial<Record<Severity, number>>;
  byStatus: Partial<Record<Status, number>>;
}

export interface Tally {
  key: string;
  count: number;
}

export interface Trends {
  days: { day: string; bySeverity: Partial<Record<Severity, number>> }[];
  types: Tally[];
  users: Tally[];
  sourceIPs: Tally[];
}

export interface Posture {
  enabled: boolean;
  ready?: boolean;
  reason?: string;
  evaluatedAt?: string;
  namespaces?: { namespace: string; mode?: string; fail: number; warn: number; error: number; wouldDeny: number }[];
  policies?: { policy: string; category: string; severity: string; fail: number; warn: number; error: number }[];
  results?: { namespace: string; apiVersion: string; kind: string; name: string; policy: string; result: string; severity: string; message: string }[];
  omitted?: number;
  wouldDeny?: { namespace: string; kind: string; name: string; policies: string[] }[];
}

export interface NotifyStatus {
  sinks: { name: string; type: string; pending: number; failing: number; oldestQueued?: string }[];
}
