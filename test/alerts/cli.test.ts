// `bulwark alerts …` against a real API over HTTPS: output formats, exit codes, API errors.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCA, createServingCert } from '../../certs/x509.js';
import { startAlertsApi, type RunningAlertsApi } from '../../alerts/api.js';
import { TokenFileAccess } from '../../alerts/auth.js';
import { registerAlerts } from '../../alerts/cli.js';
import { type AlertStore } from '../../alerts/store.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import type { Alert } from '../../alerts/model.js';
import { at, makeAlert, memoryLogger, tempDir } from './support.js';

const ca = createCA();
const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
let dir: string;
let store: AlertStore;
let api: RunningAlertsApi;
let alerts: Alert[];

beforeAll(async () => {
  dir = tempDir();
  fs.writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
  fs.writeFileSync(path.join(dir, 'tokens.csv'), 'admin-tok,alice,1,security-admins\nreader-tok,bob,2,security-readers\n');
  fs.writeFileSync(path.join(dir, 'my-token'), 'reader-tok\n');
  store = await openAlertStore(`sqlite:${path.join(dir, 'cli.db')}`);
  const { logger } = memoryLogger();
  api = await startAlertsApi({
    store,
    logger,
    access: new TokenFileAccess(path.join(dir, 'tokens.csv'), { admin: ['security-admins'], reader: ['security-readers'] }, logger),
    port: 0,
    address: '127.0.0.1',
    tls: { cert: leaf.certPem, key: leaf.keyPem },
  });
  alerts = [];
  for (let i = 0; i < 7; i++) {
    alerts.push(await store.upsert(makeAlert({ firstSeen: at(i), severity: i % 2 ? 'high' : 'low', namespace: `ns-${i}` }), 60_000));
  }
});

afterAll(async () => {
  await api?.close();
  await store?.close();
});

/** Runs the command as bin/bulwark does (cli/main.ts): usage errors exit 2, the action's exitCode otherwise. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  process.exitCode = undefined;
  const program = new Command('bulwark').exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  registerAlerts(program);
  let code: number;
  try {
    await program.parseAsync(['node', 'bulwark', ...args]);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? 0 : 2;
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
  return { code, stdout, stderr };
}

const server = () => ['--server', `https://127.0.0.1:${api.port}`, '--ca', path.join(dir, 'ca.crt')];

describe('bulwark alerts', () => {
  it('lists alerts as a table', async () => {
    const r = await run('alerts', 'list', ...server(), '--token', 'reader-tok');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SEVERITY\s+STATUS\s+TYPE\s+NAMESPACE\s+RESOURCE\s+USER\s+COUNT\s+LAST SEEN$/);
    expect(lines).toHaveLength(8);
    expect(lines[1]).toContain(alerts[6]!.id);
    expect(lines[1]).toMatch(/low\s+active\s+privileged-container\s+ns-6\s+Pod\/pod-\d+\s+alice\s+1\s+\d+d$/);
  });

  it('filters and prints JSON on stdout alone, following pages with --all', async () => {
    const r = await run(
      'alerts',
      'list',
      ...server(),
      '--token-file',
      path.join(dir, 'my-token'),
      '--severity',
      'high',
      '--limit',
      '2',
      '--all',
      '--format',
      'json',
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.items.map((a: Alert) => a.id)).toEqual([alerts[5]!.id, alerts[3]!.id, alerts[1]!.id]);
    expect(doc.continue).toBeUndefined();
  });

  it('prints the continue token for the next page', async () => {
    const r = await run('alerts', 'list', ...server(), '--token', 'reader-tok', '--limit', '3');
    expect(r.stderr).toMatch(/More alerts: --continue \S+ \(or --all\)/);
    const token = /--continue (\S+)/.exec(r.stderr)![1]!;
    const next = await run('alerts', 'list', ...server(), '--token', 'reader-tok', '--limit', '3', '--continue', token, '--format', 'json');
    expect(JSON.parse(next.stdout).items.map((a: Alert) => a.id)).toEqual([alerts[3]!.id, alerts[2]!.id, alerts[1]!.id]);
  });

  it('gets one alert', async () => {
    process.env.BULWARK_TOKEN = 'reader-tok';
    try {
      const r = await run('alerts', 'get', alerts[0]!.id, ...server());
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^ID: +${alerts[0]!.id}$`, 'm'));
      expect(r.stdout).toMatch(/^Severity: +low$/m);
      const json = await run('alerts', 'get', alerts[0]!.id, ...server(), '--format', 'json');
      expect(JSON.parse(json.stdout)).toEqual(alerts[0]);
    } finally {
      delete process.env.BULWARK_TOKEN;
    }
  });

  it('dismisses with a reason and changes status, as an admin', async () => {
    const d = await run('alerts', 'dismiss', alerts[0]!.id, '--reason', 'expected in CI', ...server(), '--token', 'admin-tok');
    expect(d).toMatchObject({ code: 0, stdout: `alert ${alerts[0]!.id} is now dismissed\n` });
    const s = await run('alerts', 'status', alerts[0]!.id, 'active', ...server(), '--token', 'admin-tok', '--format', 'json');
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).history.map((h: any) => h.to)).toEqual(['dismissed', 'active']);
    const got = await store.get(alerts[0]!.id);
    expect(got!.history[0]).toMatchObject({ by: 'alice', reason: 'expected in CI' });
  });

  it('exits 1 with the API error for a reader changing status, an unknown alert, or a bad token', async () => {
    const reader = await run('alerts', 'dismiss', alerts[1]!.id, '--reason', 'x', ...server(), '--token', 'reader-tok');
    expect(reader.code).toBe(1);
    expect(reader.stderr).toMatch(/^error: user "bob" may not update alerts: .* \(HTTP 403\)$/m);
    const missing = await run('alerts', 'get', 'nope', ...server(), '--token', 'reader-tok');
    expect(missing).toMatchObject({ code: 1, stderr: 'error: alert "nope" not found (HTTP 404)\n' });
    const bad = await run('alerts', 'list', ...server(), '--token', 'wrong');
    expect(bad).toMatchObject({ code: 1, stderr: 'error: the bearer token is not valid (HTTP 401)\n' });
    const filter = await run('alerts', 'list', ...server(), '--token', 'reader-tok', '--severity', 'urgent');
    expect(filter.code).toBe(1);
    expect(filter.stderr).toMatch(/invalid severity "urgent": allowed values are informational, low, medium, high/);
  });

  it('exits 1 explaining an untrusted certificate, and connects with --insecure-skip-tls-verify', async () => {
    const untrusted = await run('alerts', 'list', '--server', `https://127.0.0.1:${api.port}`, '--token', 'reader-tok', '--ca', path.join(dir, 'tokens.csv'));
    expect(untrusted.code).toBe(1);
    const other = createCA();
    fs.writeFileSync(path.join(dir, 'other-ca.crt'), other.certPem);
    const wrongCa = await run('alerts', 'list', '--server', `https://127.0.0.1:${api.port}`, '--token', 'reader-tok', '--ca', path.join(dir, 'other-ca.crt'));
    expect(wrongCa.code).toBe(1);
    expect(wrongCa.stderr).toMatch(/cannot verify the certificate of https:\/\/127\.0\.0\.1:\d+ .*--ca FILE.*--insecure-skip-tls-verify/);
    const insecure = await run('alerts', 'list', '--server', `https://127.0.0.1:${api.port}`, '--token', 'reader-tok', '--insecure-skip-tls-verify');
    expect(insecure.code).toBe(0);
  });

  it('exits 1 when nothing listens', async () => {
    const r = await run('alerts', 'list', '--server', 'https://127.0.0.1:1', '--token', 't', '--insecure-skip-tls-verify');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot connect to https:\/\/127\.0\.0\.1:1: connection refused/);
  });

  it.each([
    [['alerts', 'list', '--server', 'https://127.0.0.1:1'], /no token: pass --token TOKEN or --token-file FILE, or set BULWARK_TOKEN/],
    [['alerts', 'dismiss', 'some-id', '--token', 't'], /required option '--reason <text>'/],
    [['alerts', 'status', 'some-id', 'closed', '--token', 't'], /status must be one of active, in-progress, resolved, dismissed/],
    [['alerts', 'status', 'some-id', 'dismissed', '--token', 't'], /dismissing needs --reason TEXT/],
    [['alerts', 'list', '--format', 'yaml', '--token', 't'], /argument 'yaml' is invalid. Allowed choices are table, json/],
    [['alerts', 'list', '--limit', 'ten', '--token', 't'], /--limit must be a whole number/],
    [['alerts', 'list', '--server', 'not a url', '--token', 't'], /is not a URL/],
    [['alerts', 'get'], /missing required argument 'id'/],
  ])('exits 2 on usage errors: %j', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
