// Bounds on what enters the alert pipeline, applied once where alerts come in (AlertPipeline.record):
// an alert is a small record whatever the object or event that raised it. Evidence becomes a plain
// JSON copy (no cycles, no functions or BigInts, at most MAX_DEPTH deep, long strings and arrays
// cut, `findings` kept to the first MAX_FINDINGS with a count), at most MAX_EVIDENCE_BYTES of JSON;
// the message and the text fields are clipped. A value that cannot be serialised is cut here, so
// the store never meets one (and a bad alert can never block the queue behind it).
import type { Alert } from './model.js';

export const MAX_EVIDENCE_BYTES = 16 * 1024;
export const MAX_MESSAGE_CHARS = 2048;
export const MAX_FINDINGS = 20;
const MAX_DEPTH = 12;
const MAX_STRING = 1024;
const MAX_ARRAY = 100;
const MAX_KEYS = 100;
const MAX_FIELD = 512;

function clipString(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** A JSON-safe copy of `value`, bounded in depth, breadth and string length; cycles become "[cycle]". */
export function jsonSafe(value: unknown, depth = 0, seen: Set<object> = new Set()): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return clipString(value, MAX_STRING);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined; // functions, symbols, undefined
  if (seen.has(value)) return '[cycle]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      const out = value.slice(0, MAX_ARRAY).map((v) => jsonSafe(v, depth + 1, seen) ?? null);
      if (value.length > MAX_ARRAY) out.push(`… ${value.length - MAX_ARRAY} more`);
      return out;
    }
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const key of Object.keys(value)) {
      if (n++ >= MAX_KEYS) {
        out['…'] = `${Object.keys(value).length - MAX_KEYS} more keys`;
        break;
      }
      let v: unknown;
      try {
        v = (value as Record<string, unknown>)[key];
      } catch {
        continue; // a getter that throws
      }
      const safe = jsonSafe(v, depth + 1, seen);
      if (safe !== undefined) out[clipString(key, MAX_STRING)] = safe;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** Evidence within `maxBytes` of JSON (default MAX_EVIDENCE_BYTES): findings first cut to MAX_FINDINGS, else a note of the size and the keys. */
export function boundEvidence(evidence: unknown, maxBytes = MAX_EVIDENCE_BYTES): Record<string, unknown> {
  let safe = jsonSafe(evidence ?? {});
  if (safe === null || typeof safe !== 'object' || Array.isArray(safe)) safe = { value: safe };
  const out = safe as Record<string, unknown>;
  if (Array.isArray(out.findings) && out.findings.length > MAX_FINDINGS) {
    const total = (evidence as { findings?: unknown[] }).findings?.length ?? out.findings.length;
    out.findingsTotal = total;
    out.findings = out.findings.slice(0, MAX_FINDINGS);
  }
  const bytes = Buffer.byteLength(JSON.stringify(out));
  if (bytes <= maxBytes) return out;
  return { truncated: true, bytes, keys: Object.keys(out).slice(0, 20) };
}

const clipped = (v: unknown, max: number): string => (typeof v === 'string' ? clipString(v, max) : '');

/** The alert with every field bounded (see the top of this file). Pure; never throws. */
export function boundAlert(alert: Alert): Alert {
  const out: Alert = {
    ...alert,
    message: clipped(alert.message, MAX_MESSAGE_CHARS),
    title: clipped(alert.title, MAX_FIELD),
    type: clipped(alert.type, MAX_FIELD),
    namespace: clipped(alert.namespace, MAX_FIELD),
    userAgent: clipped(alert.userAgent, MAX_FIELD),
    remediation: clipped(alert.remediation, MAX_MESSAGE_CHARS),
    evidence: boundEvidence(alert.evidence),
  };
  if (alert.resource && typeof alert.resource === 'object') {
    const r = alert.resource;
    out.resource = {
      group: clipped(r.group, MAX_FIELD),
      version: clipped(r.version, MAX_FIELD),
      kind: clipped(r.kind, MAX_FIELD),
      name: clipped(r.name, MAX_FIELD),
    };
  }
  if (alert.user && typeof alert.user === 'object') {
    const safe = jsonSafe(alert.user) as Alert['user'];
    out.user = {
      ...safe,
      username: clipped(alert.user.username, MAX_FIELD),
      groups: (Array.isArray(safe.groups) ? safe.groups : []).map((g) => clipped(g, MAX_FIELD)),
    };
  }
  if (Array.isArray(alert.tactics)) out.tactics = alert.tactics.slice(0, 20).map((t) => clipped(t, 64));
  return out;
}
