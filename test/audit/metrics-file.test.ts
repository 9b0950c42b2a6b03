// `audit scan --metrics-file`: the scan's metrics (events, malformed lines, alerts by severity, rejected
// checkpoints) in the Prometheus text format, for node_exporter's textfile collector.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { auditEvent, lines, runCli } from './helpers.js';

const SAMPLE = resolve(import.meta.dirname, '../../examples/audit/sample.log');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bulwark-metrics-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `name{labels} value` lines of a Prometheus text file → map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('audit scan --metrics-file', () => {
  it('writes events, malformed lines and alerts by severity as the summary counts them, mode 0644', async () => {
    const file = join(dir, 'bulwark-audit.prom');
    const log = join(dir, 'audit.log');
    writeFileSync(log, readFileSync(SAMPLE, 'utf8') + 'not json\n');
    const r = await runCli(['--metrics-file', file, log]);
    expect(r.code).toBe(0);
    const m = samples(readFileSync(file, 'utf8'));
    const events = Number(/(\d+) events/.exec(r.stdout)?.[1]);
    expect(events).toBeGreaterThan(10);
    // Counters are process-wide (one registry): compare what this run added.
    expect(m.get('bulwark_audit_events_total')).toBeGreaterThanOrEqual(events);
    expect(m.get('bulwark_audit_malformed_lines_total')).toBeGreaterThanOrEqual(1);
    const alerts = ['high', 'medium', 'low'].map((s) => m.get(`bulwark_audit_alerts_total{severity="${s}"}`) ?? 0);
    expect(alerts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(12);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(r.stderr).not.toMatch(/metrics file/);
  });

  it('a second run adds to nothing it did not see: the events counter grows by exactly that run', async () => {
    const file = join(dir, 'm.prom');
    const log = join(dir, 'a.log');
    writeFileSync(log, lines([auditEvent(), auditEvent(), auditEvent()]));
    await runCli(['--metrics-file', file, log]);
    const first = samples(readFileSync(file, 'utf8')).get('bulwark_audit_events_total')!;
    await runCli(['--metrics-file', file, log]);
    expect(samples(readFileSync(file, 'utf8')).get('bulwark_audit_events_total')).toBe(first + 3);
  });

  it('counts a rejected checkpoint (an unsafe folder) and still writes the file', async () => {
    const file = join(dir, 'm.prom');
    const log = join(dir, 'a.log');
    writeFileSync(log, lines([auditEvent()]));
    const open = mkdtempSync(join(dir, 'open-'));
    chmodSync(open, 0o777);
    const r = await runCli(['--metrics-file', file, '--checkpoint', join(open, 'cp.json'), log]);
    expect(r.code).toBe(2);
    expect(samples(readFileSync(file, 'utf8')).get('bulwark_audit_checkpoint_rejected_total{kind="unsafe"}')).toBeGreaterThanOrEqual(1);
  });

  it('an unwritable metrics file is a warning, not a failed scan', async () => {
    const log = join(dir, 'a.log');
    writeFileSync(log, lines([auditEvent()]));
    const r = await runCli(['--metrics-file', join(dir, 'missing', 'm.prom'), log]);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/warning: cannot write the metrics file/g)).toHaveLength(1);
  });
});
