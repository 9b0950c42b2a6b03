// The store's maintenance on one replica: two `bulwark serve` replicas on one PostgreSQL (the
// suite's throwaway server) and a cluster (the API-server stand-in) hold the Lease
// `bulwark-maintenance` between them; only its holder delivers notifications (an alert raised on
// the other replica is delivered by the holder), and when the holder stops the other takes the
// Lease and delivers. A replica on its own SQLite file takes no Lease.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_LEASE_NAME } from '../../background/lease.js';
import type { AuditEvent } from '../../audit/event.js';
import { POSTGRES_URL } from '../alerts/support.js';
import { auditEvent, auditID } from '../audit/helpers.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';
import { listeningPort, makeCerts, metricValue, request, serveProcess, waitFor, type ServeProcess, type TestCerts } from '../webhook/support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NS = 'bulwark-system';
const LEASE = `coordination.k8s.io/v1|leases|${NS}|${MAINTENANCE_LEASE_NAME}`;

describe.skipIf(!POSTGRES_URL)('the maintenance Lease on a shared store', () => {
  const children: ChildProcess[] = [];
  let admin: pg.Pool;
  let schema: string;
  let certs: TestCerts;
  let ca: Buffer;
  let api: StandIn;
  let work: string;
  let kubeconfig: string;

  beforeAll(async () => {
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8', timeout: 240_000 });
    if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
    admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    schema = `m_${randomBytes(5).toString('hex')}`;
    await admin.query(`CREATE SCHEMA ${schema}`);
    certs = makeCerts();
    ca = fs.readFileSync(certs.caFile);
    api = await startApiServerStandIn();
    work = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'bulwark-maintenance-'));
    kubeconfig = path.join(work, 'kubeconfig');
    fs.writeFileSync(kubeconfig, api.kubeconfig(), { mode: 0o600 });
  }, 300_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
    await api?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** A replica with a config of its own (its own delivery file), on `storeUrl`, talking to the stand-in as POD_NAME `name`. */
  async function replica(name: string, storeUrl: string): Promise<{ name: string; port: number; proc: ServeProcess; delivered: () => string[] }> {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    const config = path.join(dir, 'bulwark.yaml');
    fs.writeFileSync(config, `store: {url: '${storeUrl}'}\nnotify:\n  pollInterval: 100ms\n  sinks: [{name: soc, type: jsonl, file: delivered.jsonl}]\n`);
    const proc = serveProcess(
      ['--config', config, '--port', '0', '--address', '127.0.0.1', '--kubeconfig', kubeconfig, '--tls-cert', certs.certFile, '--tls-key', certs.keyFile],
      children,
      { POD_NAME: name, POD_NAMESPACE: NS },
    );
    const port = await listeningPort(proc);
    const file = path.join(dir, 'delivered.jsonl');
    const delivered = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
    return { name, port, proc, delivered };
  }

  /** An exec into a pod (one alert), acknowledged by the replica on `port`. */
  async function exec(port: number, pod: string): Promise<string> {
    const id = auditID();
    const ev = auditEvent({
      auditID: id,
      verb: 'create',
      user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
      requestURI: `/api/v1/namespaces/shop/pods/${pod}/exec?command=sh`,
      objectRef: { resource: 'pods', subresource: 'exec', namespace: 'shop', name: pod, apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 101 },
    } as Partial<AuditEvent>);
    const res = await request(port, ca, {
      method: 'POST',
      path: '/audit',
      body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [ev] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    return id;
  }

  it('a replica on its own SQLite file takes no maintenance Lease', async () => {
    const solo = await replica('solo', `sqlite:${path.join(work, 'solo.db')}`);
    // Its namespace informer talks to the cluster; the maintenance Lease is never asked for.
    await waitFor(() => api.requests.some((r) => r.path === '/api/v1/namespaces'), 10_000, 'the namespace informer');
    await new Promise((r) => setTimeout(r, 1000));
    expect(api.requests.filter((r) => r.path.includes(`/leases/${MAINTENANCE_LEASE_NAME}`) || r.path.endsWith('/leases'))).toEqual([]);
    solo.proc.child.kill('SIGTERM');
    await solo.proc.exited;
  });

  it('only the holder delivers; when it stops, the other replica takes the Lease and delivers', async () => {
    const url = new URL(POSTGRES_URL!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const [a, b] = await Promise.all([replica('replica-a', url.toString()), replica('replica-b', url.toString())]);
    await waitFor(() => ['replica-a', 'replica-b'].includes(api.objects.get(LEASE)?.spec?.holderIdentity), 15_000, 'a maintenance Lease holder');
    const holder = api.objects.get(LEASE)!.spec.holderIdentity === 'replica-a' ? a! : b!;
    const other = holder === a ? b! : a!;
    expect(holder.proc.stderr()).toMatch(/holding the maintenance Lease: alert retention and notification delivery run on this replica/);
    // Each replica says whether it holds it: across them the sum is 1.
    const held = async (r: { port: number }) =>
      metricValue((await request(r.port, ca, { method: 'GET', path: '/metrics' })).text, 'bulwark_lease_held', { lease: MAINTENANCE_LEASE_NAME });
    await waitFor(async () => (await held(holder)) === 1 && (await held(other)) === 0, 10_000, 'bulwark_lease_held');

    // Raised on the other replica, delivered by the holder only (both poll the outbox every 100 ms).
    const first: string[] = [];
    for (let i = 0; i < 6; i++) {
      first.push(await exec(other.port, `web-${i}`));
      await new Promise((r) => setTimeout(r, 150));
    }
    await waitFor(() => first.every((id) => holder.delivered().some((l) => l.includes(id))), 10_000, 'delivery by the holder');
    await new Promise((r) => setTimeout(r, 500));
    expect(other.delivered()).toEqual([]);
    expect(holder.delivered()).toHaveLength(6);

    // The holder stops (and releases the Lease): the other takes it at its next renew period.
    holder.proc.child.kill('SIGTERM');
    expect(await holder.proc.exited).toBe(0);
    await waitFor(() => api.objects.get(LEASE)?.spec?.holderIdentity === other.name, 15_000, 'the takeover');
    const second = await exec(other.port, 'web-9');
    await waitFor(() => other.delivered().some((l) => l.includes(second)), 10_000, 'delivery by the new holder');
    expect(other.delivered()).toHaveLength(1);
    expect(api.objects.get(LEASE)!.spec.leaseTransitions).toBe(1);
  }, 90_000);
});
