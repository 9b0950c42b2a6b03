// `bulwark audit scan`'s metrics, for a run that no HTTP server serves: written in the Prometheus
// text format to a file (`--metrics-file`), atomically, for node_exporter's textfile collector
// (`--collector.textfile.directory`) or any agent that reads such files. prom-client is loaded only
// by the runs that keep a checkpoint or a metrics file.
import { Counter, Registry } from 'prom-client';
import { writeFileAtomicAsync } from '../core/atomic-write.js';
import type { Severity } from '../core/severity.js';

export const auditRegistry = new Registry();

export const checkpointRejectedTotal = new Counter({
  name: 'bulwark_audit_checkpoint_rejected_total',
  help: 'Audit checkpoints (or checkpoint entries) not trusted: unsafe permissions, forged or malformed entries, head hash not matching the file',
  labelNames: ['kind'] as const,
  registers: [auditRegistry],
});

const eventsTotal = new Counter({
  name: 'bulwark_audit_events_total',
  help: 'Audit events read by bulwark audit scan',
  registers: [auditRegistry],
});

const malformedTotal = new Counter({
  name: 'bulwark_audit_malformed_lines_total',
  help: 'Input lines that were not audit events (not JSON, not an Event, over the line limit)',
  registers: [auditRegistry],
});

const alertsTotal = new Counter({
  name: 'bulwark_audit_alerts_total',
  help: 'Alerts raised by bulwark audit scan, by severity (after de-duplication)',
  labelNames: ['severity'] as const,
  registers: [auditRegistry],
});

/** Counts what a scan did; events and malformed lines are given as running totals. */
export class AuditScanMetrics {
  private events = 0;
  private malformed = 0;

  alert(severity: Severity): void {
    alertsTotal.inc({ severity });
  }

  totals(events: number, malformed: number): void {
    if (events > this.events) eventsTotal.inc(events - this.events);
    if (malformed > this.malformed) malformedTotal.inc(malformed - this.malformed);
    this.events = Math.max(this.events, events);
    this.malformed = Math.max(this.malformed, malformed);
  }
}

/** Writes every audit metric to `file` (mode 0644, through a temporary file and a rename). */
export async function writeMetricsFile(file: string): Promise<void> {
  await writeFileAtomicAsync(file, await auditRegistry.metrics(), 0o644);
}
