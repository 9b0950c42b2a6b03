// How `bulwark audit scan` prints alerts: ndjson (one alert JSON per line, stdout for that alone)
// or a table (one row per alert, then a summary by type and severity).
import type { Alert } from '../alerts/model.js';
import type { Severity } from '../core/severity.js';
import type { MalformedLine } from './input.js';

export interface Writer {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const SEVERITIES: readonly Severity[] = ['high', 'medium', 'low', 'informational'];

export interface Tally {
  alerts: number;
  occurrences: number;
  byType: Map<string, Record<Severity, number>>;
  bySeverity: Record<Severity, number>;
}

export function newTally(): Tally {
  return { alerts: 0, occurrences: 0, byType: new Map(), bySeverity: { informational: 0, low: 0, medium: 0, high: 0 } };
}

export function countAlert(t: Tally, a: Alert): void {
  t.alerts++;
  t.occurrences += a.count;
  t.bySeverity[a.severity]++;
  let row = t.byType.get(a.type);
  if (!row) t.byType.set(a.type, (row = { informational: 0, low: 0, medium: 0, high: 0 }));
  row[a.severity]++;
}

/** The alert with its fields in the contract's order (DESIGN.md), for people reading the lines. */
export function orderedAlert(a: Alert): Alert {
  return {
    id: a.id,
    type: a.type,
    title: a.title,
    severity: a.severity,
    source: a.source,
    status: a.status,
    firstSeen: a.firstSeen,
    lastSeen: a.lastSeen,
    count: a.count,
    namespace: a.namespace,
    resource: a.resource,
    user: a.user,
    sourceIPs: a.sourceIPs,
    userAgent: a.userAgent,
    auditIDs: a.auditIDs,
    message: a.message,
    evidence: a.evidence,
    tactics: a.tactics,
    remediation: a.remediation,
    history: a.history,
    fingerprint: a.fingerprint,
  };
}

export function ndjsonLine(a: Alert): string {
  return JSON.stringify(orderedAlert(a)) + '\n';
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function padLeft(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, Math.max(0, n - 1)) + '…';
}

const COLS = { severity: 9, type: 27, count: 6, time: 20, user: 24 };

export function tableHeader(): string {
  return `${pad('SEVERITY', COLS.severity)} ${pad('TYPE', COLS.type)} ${padLeft('COUNT', COLS.count)}  ${pad('FIRST SEEN', COLS.time)} ${pad('USER', COLS.user)} MESSAGE\n`;
}

export function tableRow(a: Alert): string {
  const when = a.firstSeen.replace(/\.\d+Z$/, 'Z');
  const user = a.user.username || '(anonymous)';
  return `${pad(a.severity, COLS.severity)} ${pad(a.type, COLS.type)} ${padLeft(String(a.count), COLS.count)}  ${pad(clip(when, COLS.time), COLS.time)} ${pad(clip(user, COLS.user), COLS.user)} ${a.message}\n`;
}

export interface SummaryInput {
  tally: Tally;
  events: number;
  inputs: number;
  malformed: number;
  malformedSamples: MalformedLine[];
  unreadable: { input: string; message: string }[];
}

export function summaryText(s: SummaryInput): string {
  const lines: string[] = [];
  const t = s.tally;
  lines.push('');
  lines.push(
    `${t.alerts} alert${t.alerts === 1 ? '' : 's'} (${t.occurrences} occurrence${t.occurrences === 1 ? '' : 's'}) from ${s.events} event${s.events === 1 ? '' : 's'} in ${s.inputs} input${s.inputs === 1 ? '' : 's'}` +
      (s.malformed ? `; ${s.malformed} malformed line${s.malformed === 1 ? '' : 's'} skipped` : '') +
      (s.unreadable.length ? `; ${s.unreadable.length} input${s.unreadable.length === 1 ? '' : 's'} unreadable` : ''),
  );
  if (t.alerts > 0) {
    const width = Math.max(4, ...[...t.byType.keys()].map((k) => k.length));
    lines.push('');
    lines.push(`${pad('TYPE', width)}  ${padLeft('HIGH', 6)} ${padLeft('MEDIUM', 6)} ${padLeft('LOW', 6)} ${padLeft('INFO', 6)} ${padLeft('TOTAL', 6)}`);
    const types = [...t.byType.entries()].sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]));
    for (const [type, row] of types) {
      lines.push(`${pad(type, width)}  ${SEVERITIES.map((sv) => padLeft(String(row[sv]), 6)).join(' ')} ${padLeft(String(total(row)), 6)}`);
    }
    lines.push(`${pad('total', width)}  ${SEVERITIES.map((sv) => padLeft(String(t.bySeverity[sv]), 6)).join(' ')} ${padLeft(String(t.alerts), 6)}`);
  }
  if (s.malformedSamples.length) {
    lines.push('');
    lines.push('Malformed lines:');
    for (const m of s.malformedSamples) lines.push(`  ${m.file}:${m.line}: ${m.reason}`);
    if (s.malformed > s.malformedSamples.length) lines.push(`  … and ${s.malformed - s.malformedSamples.length} more`);
  }
  if (s.unreadable.length) {
    lines.push('');
    lines.push('Unreadable inputs:');
    for (const u of s.unreadable) lines.push(`  ${u.message}`);
  }
  return lines.join('\n') + '\n';
}

function total(row: Record<Severity, number>): number {
  return row.high + row.medium + row.low + row.informational;
}

/** A one-line progress bar for large files, redrawn in place on a TTY. */
export class ProgressBar {
  private last = 0;
  private shown = false;
  constructor(
    private readonly out: Writer,
    private readonly minIntervalMs = 200,
  ) {}

  update(name: string, done: number, size: number, events: number): void {
    const now = Date.now();
    if (now - this.last < this.minIntervalMs) return;
    this.last = now;
    const frac = size > 0 ? Math.min(1, done / size) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const text = `${clip(name, 40)} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${mib(done)}/${mib(size)} MiB ${events} events`;
    this.out.write(`\r${text}\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}
