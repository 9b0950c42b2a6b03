// De-duplication: the same type, resource, namespace and user (alerts/model.ts fingerprintOf)
// within a window of EVENT time is one alert, with a count and every contributing auditID.
//
// Two modes, one key:
// - `hold` (offline `audit scan`): occurrences are merged in a map of open alerts; an alert is
//   emitted once its window has passed in event time (the highest event time seen so far) or at
//   the end of input. Memory is bounded by the alerts open within one window (and `maxOpen`).
// - `pass` (`--follow`, `POST /audit`): every occurrence is handed on at once, with its
//   fingerprint; the store pipeline merges occurrences by fingerprint, so nothing waits a window
//   before it is seen.
import type { Alert } from '../alerts/model.js';
import { evictionBatch, oldestKeys } from '../core/evict.js';
import { SEVERITY_RANK } from '../core/severity.js';
import { parseTimestamp } from './event.js';

export type DedupMode = 'hold' | 'pass';

export interface DedupOptions {
  windowMs: number;
  mode: DedupMode;
  emit(alert: Alert): void;
  /** Most alerts held open at once; beyond it the oldest 1/64 are emitted early (default 100 000). */
  maxOpen?: number;
  /** Most auditIDs kept per alert (the count stays exact; default 10 000). */
  maxAuditIDs?: number;
}

const MAX_SOURCE_IPS = 64;

interface Open {
  alert: Alert;
  /** Event time (ms) of the first occurrence: the window runs from here. */
  start: number;
}

export class Deduplicator {
  private readonly open = new Map<string, Open>();
  private watermark = -Infinity;
  private readonly maxOpen: number;
  private readonly maxAuditIDs: number;
  emitted = 0;

  constructor(private readonly options: DedupOptions) {
    this.maxOpen = options.maxOpen ?? 100_000;
    this.maxAuditIDs = options.maxAuditIDs ?? 10_000;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** One occurrence (count 1 or more) at event time `t` (ms; NaN when unknown: the watermark). */
  add(alert: Alert, t: number = parseTimestamp(alert.firstSeen)): void {
    if (this.options.mode === 'pass') {
      this.emit(alert);
      return;
    }
    const time = Number.isFinite(t) ? t : this.watermark;
    const held = this.open.get(alert.fingerprint);
    if (held && time - held.start <= this.options.windowMs && time >= held.start - this.options.windowMs) {
      this.merge(held.alert, alert);
      if (time < held.start) held.start = time;
    } else {
      if (held) {
        this.open.delete(held.alert.fingerprint);
        this.emit(held.alert);
      }
      this.open.set(alert.fingerprint, { alert, start: Number.isFinite(time) ? time : 0 });
      if (this.open.size > this.maxOpen) this.emitOldest(evictionBatch(this.maxOpen));
    }
    this.advance(time);
  }

  /** Moves event time forward; emits the alerts whose window has passed. */
  advance(t: number): void {
    if (!(t > this.watermark)) return;
    this.watermark = t;
    const cutoff = t - this.options.windowMs;
    // Insertion order is nearly event order: stop at the first alert still inside its window.
    for (const [key, held] of this.open) {
      if (held.start >= cutoff) break;
      this.open.delete(key);
      this.emit(held.alert);
    }
  }

  /** Emits every open alert (end of input). */
  flush(): void {
    for (const held of this.open.values()) this.emit(held.alert);
    this.open.clear();
  }

  /** Emits the `count` oldest open alerts early (over `maxOpen`; in batches, see core/evict.ts). */
  private emitOldest(count: number): void {
    for (const key of oldestKeys(this.open, count)) {
      const held = this.open.get(key)!;
      this.open.delete(key);
      this.emit(held.alert);
    }
  }

  private emit(alert: Alert): void {
    this.emitted++;
    this.options.emit(alert);
  }

  private merge(into: Alert, a: Alert): void {
    into.count += a.count;
    // Each request is analysed once (analyser.ts); two requests may share a client-chosen auditID,
    // and then the ID is listed once per request (the count says how many there were).
    for (const id of a.auditIDs) {
      if (into.auditIDs.length >= this.maxAuditIDs) {
        into.evidence.auditIDsTruncated = true;
        break;
      }
      into.auditIDs.push(id);
    }
    if (a.firstSeen < into.firstSeen) into.firstSeen = a.firstSeen;
    if (a.lastSeen > into.lastSeen) into.lastSeen = a.lastSeen;
    for (const ip of a.sourceIPs) if (into.sourceIPs.length < MAX_SOURCE_IPS && !into.sourceIPs.includes(ip)) into.sourceIPs.push(ip);
    if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[into.severity]) {
      into.severity = a.severity;
      into.message = a.message;
    }
    const verb = a.evidence.verb;
    if (typeof verb === 'string') {
      const verbs = Array.isArray(into.evidence.verbs) ? (into.evidence.verbs as string[]) : [into.evidence.verb as string];
      if (!verbs.includes(verb)) verbs.push(verb);
      into.evidence.verbs = verbs;
    }
  }
}
