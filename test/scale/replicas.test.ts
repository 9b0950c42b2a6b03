// Three `bulwark serve` replicas on one PostgreSQL (the suite's throwaway server), fed one audit
// log split across them — every event to exactly one replica, in random batches, stages of one
// request scattered — store the same alerts as one replica reading the whole log in order: every
// (type, audit ID) occurrence once, none lost, none doubled — also when a replica is killed in the
// middle and the sender retries what it did not acknowledge on another one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAlertStore } from '../../alerts/store-factory.js';
import type { Alert } from '../../alerts/model.js';
import type { AuditEvent } from '../../audit/event.js';
import { POSTGRES_URL } from '../alerts/support.js';
import { auditEvent, auditID } from '../audit/helpers.js';
import { prng } from '../support/prng.js';
import { listeningPort, makeCerts, metricValue, request, serveProcess, type TestCerts } from '../webhook/support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let theLog: AuditEvent[] | undefined;
/** The project's audit fixtures, and a busier stretch of the same shapes: each request in its stages (made once: its audit IDs come from a counter). */
function auditLog(): AuditEvent[] {
  return (theLog ??= makeAuditLog());
}

function makeAuditLog(): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const file of ['test/fixtures/audit/session.log', 'examples/audit/sample.log']) {
    for (const line of fs.readFileSync(path.join(root, file), 'utf8').split('\n')) if (line.trim()) events.push(JSON.parse(line) as AuditEvent);
  }
  const random = prng(11);
  const t0 = Date.UTC(2024, 5, 1, 11);
  const stamp = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
  const users = ['alice@example.com', 'bob@example.com', 'system:serviceaccount:ci:deployer'];
  for (let i = 0; i < 120; i++) {
    const at = t0 + i * 7_000;
    const user = { username: users[i % 3]!, groups: ['system:authenticated'] };
    const id = auditID();
    const shape = i % 4;
    const base =
      shape === 0
        ? {
            verb: 'create',
            requestURI: `/api/v1/namespaces/shop/pods/web-${i % 5}/exec?command=sh`,
            objectRef: { resource: 'pods', subresource: 'exec', namespace: 'shop', name: `web-${i % 5}`, apiVersion: 'v1' },
          }
        : shape === 1
          ? { verb: 'list', requestURI: '/api/v1/secrets', objectRef: { resource: 'secrets', apiVersion: 'v1' } }
          : shape === 2
            ? {
                verb: 'delete',
                requestURI: `/api/v1/namespaces/shop/events/e${i}`,
                objectRef: { resource: 'events', namespace: 'shop', name: `e${i}`, apiVersion: 'v1' },
              }
            : {
                verb: 'get',
                requestURI: '/api/v1/namespaces/shop/pods',
                userAgent: 'kube-hunter/1.0',
                objectRef: { resource: 'pods', namespace: 'shop', apiVersion: 'v1' },
              };
    const stages =
      shape === 0
        ? ['RequestReceived', 'ResponseStarted', 'ResponseComplete']
        : random() < 0.5
          ? ['RequestReceived', 'ResponseComplete']
          : ['ResponseComplete'];
    for (const [k, stage] of stages.entries()) {
      events.push(
        auditEvent({
          auditID: id,
          stage,
          user,
          ...base,
          requestReceivedTimestamp: stamp(at),
          stageTimestamp: stamp(at + k * 40),
          ...(stage === 'RequestReceived' ? { responseStatus: undefined } : { responseStatus: { metadata: {}, code: shape === 0 ? 101 : 200 } }),
        } as Partial<AuditEvent>),
      );
    }
  }
  return events;
}

/**
 * The service-account baseline's rules judge a request by what was learned before it arrived, and
 * each replica learns in memory, sharing through the store every anomaly.syncInterval: across
 * replicas the first use of a sign may alert once on each replica that has not yet synced. Those
 * are compared by who they flag; every other type occurrence by occurrence.
 */
const LEARNED = new Set(['serviceaccount-token-misuse', 'serviceaccount-rare-operation']);

/** Every occurrence the store holds: `type auditID` for each audit ID of each alert, the counts by type, and who the learned types flag. */
function occurrences(alerts: readonly Alert[]): { ids: string[]; counts: Record<string, number>; learned: string[] } {
  const ids: string[] = [];
  const counts: Record<string, number> = {};
  const learned = new Set<string>();
  for (const a of alerts) {
    if (LEARNED.has(a.type)) {
      learned.add(`${a.type} ${a.user.username}`);
      continue;
    }
    for (const id of a.auditIDs) ids.push(`${a.type} ${id}`);
    counts[a.type] = (counts[a.type] ?? 0) + a.count;
  }
  return { ids: ids.sort(), counts, learned: [...learned].sort() };
}

describe.skipIf(!POSTGRES_URL)('replicas on one PostgreSQL', () => {
  const children: ChildProcess[] = [];
  const schemas: string[] = [];
  let admin: pg.Pool;
  let certs: TestCerts;
  let ca: Buffer;

  beforeAll(() => {
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8', timeout: 240_000 });
    if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
    admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    certs = makeCerts();
    ca = fs.readFileSync(certs.caFile);
  }, 300_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const s of schemas) await admin?.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin?.end();
  });

  /** A schema of its own, and a config whose store URL puts the tables there. */
  async function storeUrl(): Promise<string> {
    const schema = `r_${randomBytes(5).toString('hex')}`;
    schemas.push(schema);
    await admin.query(`CREATE SCHEMA ${schema}`);
    const url = new URL(POSTGRES_URL!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return url.toString();
  }

  async function replicas(url: string, n: number): Promise<number[]> {
    return (await replicaProcesses(url, n)).map((r) => r.port);
  }

  async function replicaProcesses(url: string, n: number): Promise<{ port: number; child: ChildProcess }[]> {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'bulwark-replicas-'));
    const config = path.join(dir, 'bulwark.yaml');
    fs.writeFileSync(config, `store:\n  url: '${url}'\n  dedupWindow: 10m\n`);
    const args = ['--config', config, '--port', '0', '--address', '127.0.0.1', '--no-kube', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile];
    // Started together: the schema is made once under the advisory lock, whoever comes first.
    const procs = Array.from({ length: n }, () => serveProcess(args, children));
    return Promise.all(procs.map(async (p) => ({ port: await listeningPort(p), child: p.child })));
  }

  /** A batch as the API server's batch backend sends it: true once acknowledged (200), false when the replica did not answer. */
  async function send(port: number, items: AuditEvent[]): Promise<boolean> {
    try {
      const res = await request(port, ca, {
        method: 'POST',
        path: '/audit',
        body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }),
        headers: { 'content-type': 'application/json' },
      });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async function post(port: number, items: AuditEvent[]): Promise<void> {
    expect(await send(port, items), `a batch to replica :${port} was not acknowledged`).toBe(true);
  }

  async function stored(url: string): Promise<Alert[]> {
    const store = await openAlertStore(url);
    try {
      const out: Alert[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ source: ['audit'] }, cursor, 500);
        out.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    } finally {
      await store.close();
    }
  }

  let reference: ReturnType<typeof occurrences> | undefined;
  /** What one replica reading the whole log in order stores. */
  async function expectedOccurrences(log: AuditEvent[]): Promise<ReturnType<typeof occurrences>> {
    if (reference) return reference;
    const alone = await storeUrl();
    const [single] = await replicas(alone, 1);
    for (let i = 0; i < log.length; i += 100) await post(single!, log.slice(i, i + 100));
    return (reference = occurrences(await stored(alone)));
  }

  it('the same log split across three replicas in random batches stores every occurrence once, also when one is killed mid-run', async () => {
    const log = auditLog();
    const expected = await expectedOccurrences(log);
    expect(expected.ids.length).toBeGreaterThan(100);
    expect(expected.learned.length).toBeGreaterThan(0);
    expect(Object.keys(expected.counts)).toEqual(expect.arrayContaining(['exec-into-pod', 'secrets-enumerated', 'kube-events-deleted', 'pentest-tool']));

    for (const seed of [1, 2]) {
      const shared = await storeUrl();
      const ports = await replicas(shared, 3);
      // Every event to one replica; each replica's share in random batches, sent concurrently.
      const random = prng(seed);
      const shares: AuditEvent[][] = [[], [], []];
      for (const e of log) shares[Math.floor(random() * 3)]!.push(e);
      await Promise.all(
        shares.map(async (share, r) => {
          // Shuffled: the stages of one request arrive in any order, on any replica.
          for (let i = share.length - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [share[i], share[j]] = [share[j]!, share[i]!];
          }
          for (let i = 0; i < share.length;) {
            const size = 1 + Math.floor(random() * 60);
            await post(ports[r]!, share.slice(i, i + size));
            i += size;
          }
        }),
      );
      const got = occurrences(await stored(shared));
      expect(got.ids, `seed ${seed}`).toEqual(expected.ids);
      expect(got.counts, `seed ${seed}`).toEqual(expected.counts);
      expect(got.learned, `seed ${seed}`).toEqual(expected.learned);
    }

    // A replica killed (SIGKILL) in the middle: what it acknowledged is stored; what it did not
    // is sent again to another replica by the sender, and lands once.
    const shared = await storeUrl();
    const procs = await replicaProcesses(shared, 3);
    const random = prng(3);
    const batches: AuditEvent[][] = [];
    for (let i = 0; i < log.length;) {
      const size = 1 + Math.floor(random() * 40);
      batches.push(log.slice(i, i + size));
      i += size;
    }
    const alive = [true, true, true];
    let sentToVictim = 0;
    let resent = 0;
    await Promise.all(
      [0, 1, 2].map(async (lane) => {
        for (let b = lane; b < batches.length; b += 3) {
          let target = lane;
          if (lane === 1 && alive[1] && ++sentToVictim === 4) {
            // Killed while this batch is on its way: it may or may not have been stored, it is not acknowledged.
            const pending = send(procs[1]!.port, batches[b]!);
            procs[1]!.child.kill('SIGKILL');
            alive[1] = false;
            if (await pending) continue;
          }
          while (!(await send(procs[target]!.port, batches[b]!))) {
            alive[target] = false;
            target = alive.findIndex((a) => a);
            resent++;
          }
        }
      }),
    );
    expect(alive).toEqual([true, false, true]);
    expect(resent).toBeGreaterThan(0);
    const got = occurrences(await stored(shared));
    expect(got.ids).toEqual(expected.ids);
    expect(got.counts).toEqual(expected.counts);
  }, 180_000);

  it('PostgreSQL restarted mid-run: nothing lost, the replicas recover by themselves', async () => {
    const log = auditLog();
    const expected = await expectedOccurrences(log);
    // A server of this test's own, restarted under the replicas (the suite's is shared with other files).
    const started = spawnSync('bash', [path.join(root, 'test/support/postgres.sh'), 'start'], { encoding: 'utf8', timeout: 120_000 });
    expect(started.status, started.stderr).toBe(0);
    const env = Object.fromEntries([...started.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    const url = env.BULWARK_TEST_POSTGRES_URL!;
    try {
      const ports = await replicas(url, 2);
      const random = prng(5);
      const batches: AuditEvent[][] = [];
      for (let i = 0; i < log.length;) {
        const size = 1 + Math.floor(random() * 30);
        batches.push(log.slice(i, i + size));
        i += size;
      }
      let restarted: Promise<void> | undefined;
      for (const [b, batch] of batches.entries()) {
        if (b === Math.floor(batches.length / 3)) {
          restarted = new Promise((resolve, reject) => {
            const child = spawn('bash', [path.join(root, 'test/support/postgres.sh'), 'restart', env.BULWARK_TEST_POSTGRES_DIR!], { stdio: 'ignore' });
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`restart exited ${code}`))));
          });
        }
        // As the API server's batch backend: a batch not acknowledged (503 while the store is behind) is sent again.
        for (let tries = 0; !(await send(ports[b % 2]!, batch)); tries++) {
          expect(tries).toBeLessThan(100);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      await restarted;
      // Whatever waited in a replica's queue while the server was down is stored once it is back.
      const drained = async () => {
        for (const port of ports) {
          const metrics = await request(port, ca, { path: '/metrics' });
          if (metricValue(metrics.text, 'bulwark_alert_store_queue') > 0) return false;
        }
        return true;
      };
      for (let i = 0; !(await drained()); i++) {
        expect(i).toBeLessThan(150);
        await new Promise((r) => setTimeout(r, 200));
      }
      const got = occurrences(await stored(url));
      expect(got.ids).toEqual(expected.ids);
      expect(got.counts).toEqual(expected.counts);
    } finally {
      for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
      spawnSync('bash', [path.join(root, 'test/support/postgres.sh'), 'stop', env.BULWARK_TEST_POSTGRES_DIR!], { timeout: 60_000 });
    }
  }, 240_000);
});
