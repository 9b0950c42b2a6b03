// Scale-out: audit webhook batches of 400 events (kube-apiserver's --audit-webhook-batch-max-size
// default) into one, then three `bulwark serve` replicas on one PostgreSQL, over loopback HTTPS.
//   paced:  10 batches/s (the batch backend's default throttle, --audit-webhook-batch-throttle-qps),
//           round-robin over the replicas: p50/p99 batch latency, answers other than 200;
//   closed: as fast as the replicas answer (2 batches in flight per replica): sustained events/s
//           and alerts/s, p99 latency.
// Also: the replicas' CPU per 1,000 events, PostgreSQL connections in use (the most seen), and
// whether the store holds each occurrence once (the same total whatever the replica count).
// Run: npm run build && npx tsc -p tsconfig.json && BULWARK_TEST_POSTGRES_URL=… node dist/bench/scale.js
//   (eval "$(bash test/support/postgres.sh start)" makes a throwaway server). BENCH_SCALE_SECONDS
//   (default 20) bounds each phase; every request goes to 127.0.0.1 and the run stops by itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createCA, createServingCert } from '../certs/x509.js';
import { generate } from './audit-log.js';

const URL_ = process.env.BULWARK_TEST_POSTGRES_URL;
const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 20);
const BATCH = 400;
const PACED_QPS = 10;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

if (!URL_) {
  console.error('bench/scale.ts needs PostgreSQL: set BULWARK_TEST_POSTGRES_URL (eval "$(bash test/support/postgres.sh start)")');
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-scale-'));
const ca = createCA({ commonName: 'bench-scale-ca' });
const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
fs.writeFileSync(path.join(dir, 'tls.crt'), leaf.certPem);
fs.writeFileSync(path.join(dir, 'tls.key'), leaf.keyPem);
const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: ca.certPem });
const admin = new pg.Pool({ connectionString: URL_, max: 2 });

/** The batches' bodies, as the API server sends them (EventList JSON), built once from the generated log. */
async function batches(n: number): Promise<Buffer[]> {
  const file = path.join(dir, 'audit.log');
  await generate(file, n * BATCH);
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; i += BATCH)
    out.push(Buffer.from(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${lines.slice(i, i + BATCH).join(',')}]}`));
  return out;
}

function post(port: number, body: Buffer): Promise<{ status: number; ms: number; occurrences: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/audit', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let occurrences = 0;
          try {
            occurrences = (JSON.parse(text) as { occurrences?: number }).occurrences ?? 0;
          } catch {
            // an error body
          }
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, occurrences });
        });
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0, occurrences: 0 }));
    req.end(body);
  });
}

/** A process's user + system CPU seconds (/proc/PID/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function start(n: number, schema: string): Promise<{ ports: number[]; children: ChildProcess[] }> {
  const url = new URL(URL_!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const config = path.join(dir, `bulwark-${schema}.yaml`);
  fs.writeFileSync(config, `store:\n  url: '${url}'\n  maxConnections: 10\nanomaly: {learningPeriod: 1h}\n`);
  const children: ChildProcess[] = [];
  const ports = await Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(
        process.execPath,
        [
          path.join(root, 'bin/bulwark.js'),
          'serve',
          '-c',
          config,
          '--port',
          '0',
          '--address',
          '127.0.0.1',
          '--no-kube',
          '--tls-cert',
          path.join(dir, 'tls.crt'),
          '--tls-key',
          path.join(dir, 'tls.key'),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BULWARK_LOG_LEVEL: 'info', KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '' } },
      );
      children.push(child);
      return new Promise<number>((resolve, reject) => {
        let log = '';
        const timer = setTimeout(() => reject(new Error(`a replica did not start: ${log.slice(-2000)}`)), 20_000);
        let found = false;
        child.stderr!.on('data', (d: Buffer) => {
          if (found) return; // read and dropped: the log is not what is measured
          log += d.toString();
          const m = /"port":(\d+),"address":"127.0.0.1"[^\n]*listening on/.exec(log);
          if (m) {
            found = true;
            log = '';
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
    }),
  );
  return { ports, children };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function run(replicas: number, bodies: Buffer[]): Promise<void> {
  const schema = `bench_scale_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const { ports, children } = await start(replicas, schema);
  let maxConnections = 0;
  const sampler = setInterval(() => {
    admin
      .query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`)
      .then((r) => (maxConnections = Math.max(maxConnections, (r.rows[0] as { n: number }).n - 1)))
      .catch(() => undefined);
  }, 200);
  const cpu0 = children.map((c) => cpuSeconds(c.pid!));
  let next = 0;
  // Past the first round the batches are sent again with other audit IDs (their first four hex
  // digits), as new requests: a resent ID would be counted once and cost the store nothing.
  const take = (): Buffer => {
    const round = Math.floor(next / bodies.length);
    const body = bodies[next++ % bodies.length]!;
    return round === 0 ? body : Buffer.from(body.toString().replaceAll('"0b7e', `"${(round + 0xb7e0).toString(16).slice(-4)}`));
  };
  try {
    // Paced: the API server's default batch rate.
    const paced: number[] = [];
    let pacedErrors = 0;
    const pacedBatches = Math.min(bodies.length, SECONDS * PACED_QPS);
    const inflight: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < pacedBatches; i++) {
      const wait = t0 + (i * 1000) / PACED_QPS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(
        post(ports[i % replicas]!, take()).then((r) => {
          paced.push(r.ms);
          if (r.status !== 200) pacedErrors++;
        }),
      );
    }
    await Promise.all(inflight);
    paced.sort((a, b) => a - b);

    // Closed loop: two batches in flight per replica.
    const closed: number[] = [];
    let events = 0;
    let occurrences = 0;
    let closedErrors = 0;
    const cpu1 = children.map((c) => cpuSeconds(c.pid!));
    const end = performance.now() + SECONDS * 1000;
    const c0 = performance.now();
    await Promise.all(
      Array.from({ length: replicas * 2 }, async (_, lane) => {
        while (performance.now() < end) {
          const r = await post(ports[lane % replicas]!, take());
          closed.push(r.ms);
          if (r.status === 200) {
            events += BATCH;
            occurrences += r.occurrences;
          } else closedErrors++;
        }
      }),
    );
    const elapsed = (performance.now() - c0) / 1000;
    const cpu2 = children.map((c) => cpuSeconds(c.pid!));
    closed.sort((a, b) => a - b);
    const closedCpu = cpu2.reduce((s, v, i) => s + v - cpu1[i]!, 0);
    const stored = await admin.query(`SELECT count(*)::int AS alerts, COALESCE(sum(count), 0)::int AS occurrences FROM ${schema}.bulwark_alerts`);
    console.log(`\n${replicas} replica${replicas > 1 ? 's' : ''} on one PostgreSQL (batches of ${BATCH} events)`);
    console.log(
      `  paced ${PACED_QPS} batches/s (${PACED_QPS * BATCH} events/s), ${pacedBatches} batches: p50 ${quantile(paced, 0.5).toFixed(0)} ms, p99 ${quantile(paced, 0.99).toFixed(0)} ms, max ${paced.at(-1)!.toFixed(0)} ms, ${pacedErrors} not 200`,
    );
    console.log(
      `  closed loop, ${replicas * 2} in flight, ${elapsed.toFixed(1)} s: ${(events / elapsed).toFixed(0)} events/s, ${(occurrences / elapsed).toFixed(0)} alert occurrences/s, ` +
        `p50 ${quantile(closed, 0.5).toFixed(0)} ms, p99 ${quantile(closed, 0.99).toFixed(0)} ms, ${closedErrors} not 200`,
    );
    console.log(
      `  replicas' CPU ${((closedCpu / Math.max(1, events)) * 1e6).toFixed(0)} ms per 1,000 events (closed loop; ${cpu2.reduce((s, v, i) => s + v - cpu0[i]!, 0).toFixed(1)} s in all); ` +
        `PostgreSQL connections in use: at most ${maxConnections}; stored ${stored.rows[0].alerts} alerts holding ${stored.rows[0].occurrences} occurrences`,
    );
  } finally {
    clearInterval(sampler);
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

try {
  const bodies = await batches(Math.max(50, SECONDS * PACED_QPS));
  console.log(
    `${bodies.length} distinct batches of ${BATCH} events (${(bodies.reduce((s, b) => s + b.length, 0) / bodies.length / 1024).toFixed(0)} KiB each), ${os.cpus().length} cores`,
  );
  for (const n of [1, 3]) await run(n, bodies);
} finally {
  agent.destroy();
  await admin.end();
  fs.rmSync(dir, { recursive: true, force: true });
}
