// Shared test helpers: audit events shaped like kube-apiserver's (audit.k8s.io/v1), and an
// in-process `bulwark audit scan` with captured streams.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerAudit, withAuditIO, type AuditIO } from '../../audit/cli.js';
import type { AuditEvent } from '../../audit/event.js';

let seq = 0;
export function auditID(): string {
  seq++;
  return `5b1f0c2e-8d4a-4e6b-9c3d-${seq.toString(16).padStart(12, '0')}`;
}

export const KUBECTL_UA = 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350';
export const ALICE = { username: 'alice@example.com', groups: ['developers', 'system:authenticated'] };

/** A successful Metadata-level ResponseComplete event; override anything. */
export function auditEvent(overrides: Partial<AuditEvent> & Record<string, unknown> = {}): AuditEvent {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: auditID(),
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/pods/web-0',
    verb: 'get',
    user: ALICE,
    sourceIPs: ['10.0.0.5'],
    userAgent: KUBECTL_UA,
    objectRef: { resource: 'pods', namespace: 'default', name: 'web-0', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 } as AuditEvent['responseStatus'],
    requestReceivedTimestamp: '2024-06-01T10:00:00.000000Z',
    stageTimestamp: '2024-06-01T10:00:00.010000Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
    ...overrides,
  } as AuditEvent;
}

/** `at(90)` → an RFC 3339 micro-time 90 s after 10:00:00. */
export function at(seconds: number): string {
  return new Date(Date.UTC(2024, 5, 1, 10, 0, 0) + seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function lines(events: unknown[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bulwark audit scan ARGS` in-process, as cli/main.ts does (usage errors → 2). */
export async function runCli(args: string[], io: Partial<AuditIO> = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('bulwark').exitOverride().configureOutput({ writeErr: (s) => void err.push(s), writeOut: (s) => void out.push(s) });
  registerAudit(program);
  program.commands.forEach((c) => c.exitOverride());
  const saved = process.exitCode;
  process.exitCode = undefined;
  let code: number;
  try {
    await withAuditIO(
      {
        stdout: { write: (s: string) => void out.push(s) },
        stderr: { write: (s: string) => void err.push(s) },
        stdin: (async function* () {})(),
        ...io,
      },
      () => program.parseAsync(['node', 'bulwark', 'audit', 'scan', ...args]),
    );
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
  } finally {
    process.exitCode = saved;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

export function tempDir(): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-audit-'));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const FIXTURES = new URL('../fixtures/audit/', import.meta.url).pathname;
