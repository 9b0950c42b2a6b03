// The service-account baseline in `bulwark serve`: learned from POST /audit, kept in the alert
// store across a restart, judged after the learning period, and shown by `bulwark anomaly status`.
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAlertStore } from '../../alerts/store-factory.js';
import type { AuditEvent } from '../../audit/event.js';
import { listeningPort, makeCerts, metricValue, request, serveProcess } from '../webhook/support.js';
import { auditEvent } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1, 8);
const WEB = { username: 'system:serviceaccount:shop:web', groups: ['system:serviceaccounts', 'system:authenticated'] };
const time = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

function req(days: number, verb: string, resource: string, namespace?: string): AuditEvent {
  const t = START + days * DAY;
  return auditEvent({
    verb,
    user: WEB,
    userAgent: 'web/v1 (linux/amd64) kubernetes/$Format',
    requestURI: `/api/v1${namespace ? `/namespaces/${namespace}` : ''}/${resource}`,
    objectRef: { resource, ...(namespace ? { namespace } : {}), apiVersion: 'v1' },
    requestReceivedTimestamp: time(t),
    stageTimestamp: time(t + 5),
  });
}

describe('the service-account baseline in serve', () => {
  let built = false;
  beforeAll(() => {
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore', timeout: 180_000 });
    built = fs.existsSync(path.join(root, 'dist/cli/serve.js')) && fs.existsSync(path.join(root, 'dist/audit/anomaly.js'));
  }, 200_000);
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('learns from /audit, keeps it over a restart, judges after the window; anomaly status shows it', async (ctx) => {
    if (!built) ctx.skip();
    const certs = makeCerts();
    const ca = fs.readFileSync(certs.caFile);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-anomaly-'));
    const db = path.join(dir, 'alerts.db');
    const config = path.join(dir, 'bulwark.yaml');
    fs.writeFileSync(config, `store: {url: 'sqlite:${db}'}\nanomaly: {learningPeriod: 1d, syncInterval: 200ms}\n`);
    const args = ['--config', config, '--port', '0', '--address', '127.0.0.1', '--no-kube', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile];
    const post = async (port: number, items: AuditEvent[]) => {
      const res = await request(port, ca, {
        method: 'POST',
        path: '/audit',
        body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
    };

    const first = serveProcess(args, children);
    let port = await listeningPort(first);
    await post(port, [req(0, 'get', 'configmaps', 'shop'), req(0.5, 'list', 'pods', 'shop')]);
    expect(metricValue((await request(port, ca, { path: '/metrics' })).text, 'bulwark_anomaly_accounts')).toBe(1);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const status = (extra: string[]) =>
      spawnSync(process.execPath, [path.join(root, 'bin/bulwark.js'), 'anomaly', 'status', '-c', config, ...extra], {
        encoding: 'utf8',
        env: { ...process.env, BULWARK_STORE_URL: '' },
      });
    const table = status([]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/system:serviceaccount:shop:web\s+judging\s+2026-11-01T08:00:00Z\s+2026-11-02T08:00:00Z\s+2/);
    expect(table.stdout).toContain('1 account (0 learning, 1 judging, 0 saturated); learning period 1d');
    const one = JSON.parse(status(['--account', WEB.username, '-o', 'json']).stdout);
    expect(one).toMatchObject({ account: WEB.username, state: 'judging', operations: ['get configmaps in shop', 'list pods in shop'] });
    const missing = status(['--account', 'system:serviceaccount:x:y']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no baseline for "system:serviceaccount:x:y"');

    // A new process: what was learned is read back, so day 2 is judged, not learned again.
    const second = serveProcess(args, children);
    port = await listeningPort(second);
    await post(port, [req(2, 'list', 'pods', 'shop'), req(2, 'list', 'secrets')]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const store = await openAlertStore(`sqlite:${db}`);
    const page = await store.list({ type: ['serviceaccount-rare-operation'] }, undefined, 10);
    await store.close();
    expect(page.items.map((a) => a.evidence.operation)).toEqual(['list secrets cluster-wide']);
    expect(page.items[0]).toMatchObject({ namespace: 'shop', resource: { kind: 'ServiceAccount', name: 'web' } });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('anomaly status names a missing store and a bad setting, exit 2', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-anomaly-'));
    const run = (args: string[]) =>
      spawnSync(process.execPath, [path.join(root, 'bin/bulwark.js'), 'anomaly', 'status', ...args], { encoding: 'utf8', cwd: dir });
    const none = run(['--store', `sqlite:${path.join(dir, 'none.db')}`]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain(`no alert store at ${path.join(dir, 'none.db')}`);
    expect(fs.existsSync(path.join(dir, 'none.db'))).toBe(false);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'anomaly: {maxOperationsPerAccount: 0}\n');
    const bad = run(['-c', path.join(dir, 'bad.yaml')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:1: anomaly\.maxOperationsPerAccount: must be a whole number from 1 to 10000/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
