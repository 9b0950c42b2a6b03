// Shared test helpers: audit events shaped like kube-apiserver's (audit.k8s.io/v1), and an
// in-process `bulwark audit scan` with captured streams.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerAudit, withAuditIO, type AuditIO } from '../../audit/cli.js';
import type { AuditEvent } from '../../audit/event.js';
import type { SkimmedLine } from '../../audit/skim.js';

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

const GO_ORDER: Record<string, readonly string[]> = {
  event: [
    'kind',
    'apiVersion',
    'level',
    'auditID',
    'stage',
    'requestURI',
    'verb',
    'user',
    'impersonatedUser',
    'sourceIPs',
    'userAgent',
    'objectRef',
    'responseStatus',
    'requestObject',
    'responseObject',
    'requestReceivedTimestamp',
    'stageTimestamp',
    'annotations',
  ],
  user: ['username', 'uid', 'groups', 'extra'],
  objectRef: ['resource', 'namespace', 'name', 'uid', 'apiGroup', 'apiVersion', 'resourceVersion', 'subresource'],
  responseStatus: ['kind', 'apiVersion', 'metadata', 'status', 'message', 'reason', 'details', 'code'],
};

function ordered(value: unknown, order: readonly string[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of order) if (Object.hasOwn(obj, k) && obj[k] !== undefined) out[k] = obj[k];
  for (const k of Object.keys(obj)) if (!Object.hasOwn(out, k)) out[k] = obj[k];
  return out;
}

/**
 * An event as kube-apiserver's encoder writes it: fields in Go struct order (Event, UserInfo,
 * ObjectReference, Status; keys it does not know stay after them), `<`, `>`, `&`, U+2028 and
 * U+2029 escaped as Go's encoding/json does.
 */
export function goLine(ev: object): string {
  const e = ordered(ev, GO_ORDER.event!) as Record<string, unknown>;
  for (const k of ['user', 'impersonatedUser'] as const) if (e[k] !== undefined) e[k] = ordered(e[k], GO_ORDER.user!);
  if (e.objectRef !== undefined) e.objectRef = ordered(e.objectRef, GO_ORDER.objectRef!);
  if (e.responseStatus !== undefined) e.responseStatus = ordered(e.responseStatus, GO_ORDER.responseStatus!);
  return goJSON(e);
}

/** JSON as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export function goJSON(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What skimLine (audit/skim.ts) must read from a line, taken from the line's parsed event instead. */
export function skimmedFieldsOf(ev: Record<string, any>): SkimmedLine {
  const ref = (ev.objectRef ?? {}) as Record<string, unknown>;
  return {
    auditID: ev.auditID,
    requestURI: ev.requestURI,
    verb: ev.verb,
    username: ev.user?.username ?? '',
    userAgent: ev.userAgent ?? '',
    resource: ref.resource ?? '',
    subresource: ref.subresource ?? '',
    apiGroup: ref.apiGroup ?? '',
    namespace: ref.namespace ?? '',
    name: ref.name ?? '',
    code: ev.responseStatus?.code,
    requestReceivedTimestamp: ev.requestReceivedTimestamp,
  } as SkimmedLine;
}
