// Soak (#14 "Proof"): a real `bulwark serve` (child process, loopback only, mTLS with a generated
// client CA, SQLite store) under BENCH_SOAK_SECONDS (default 600) of mixed traffic:
//   legitimate — admission reviews from "the API server" (the client certificate) at
//     BENCH_SOAK_RATE/s (default 100; 1 in 20 a privileged pod in warn mode, so an alert), sent
//     and timed on their own worker thread (the API server is its own process: the attack side's
//     TLS handshakes and timers must not delay them), and one audit batch a second with
//     BENCH_SOAK_EXECS exec events (default 4, each an alert);
//   attack — unauthenticated reviews and audit batches (no certificate), slow-header connections,
//     one user's alert flood (privileged pods at 40/s), 1 MB reviews with thousands of findings,
//     deeply nested and malformed JSON, oversized bodies, audit batches reusing one chosen auditID.
// Every 5 s it samples the server's RSS; at the end it stops the server, opens the store and
// checks that every legitimate alert is there. Verdicts: RSS flat (median of the last minute within
// 20% of the first minute after a minute of warm-up), no legitimate alert lost, p99 of the
// legitimate reviews (from their scheduled send time) within the webhook bench's bound (10 ms).
//
//   npm run bench:soak                       # 10 minutes
//   BENCH_SOAK_SECONDS=60 npm run bench:soak # a short run
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { openAlertStore } from '../alerts/store-factory.js';
import type { AlertFilter } from '../alerts/store.js';
import { createCA, createClientCert, createServingCert } from '../certs/x509.js';
import { bigDeployment, review } from './shapes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 100);
const EXECS = Number(process.env.BENCH_SOAK_EXECS ?? 4);
const P99_BOUND_MS = 10;
const WARMUP_S = Math.min(60, SECONDS / 4);
/** Attack classes to leave out (comma-separated names as printed), to see what each costs. */
const SKIP = new Set((process.env.BENCH_SOAK_SKIP ?? '').split(',').filter(Boolean));

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pod(name: string, namespace: string, privileged: boolean): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1.4', ...(privileged ? { securityContext: { privileged: true } } : {}) }] },
  };
}

function podReview(object: Record<string, unknown>, username: string): string {
  const meta = object.metadata as { namespace: string };
  return review(object, {
    uid: randomUUID(),
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: meta.namespace,
    userInfo: { username, groups: ['system:authenticated'] },
  });
}

function execEvent(namespace: string, name: string, username: string, auditID = randomUUID()): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage: 'ResponseStarted',
    requestURI: `/api/v1/namespaces/${namespace}/pods/${name}/exec?command=sh&stdin=true&tty=true`,
    verb: 'create',
    user: { username, groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.5'],
    userAgent: 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350',
    objectRef: { resource: 'pods', namespace, name, apiVersion: 'v1', subresource: 'exec' },
    responseStatus: { metadata: {}, code: 101 },
    requestReceivedTimestamp: now,
    stageTimestamp: now,
  };
}

const eventList = (items: unknown[]): string => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });

interface Tally {
  [status: string]: number;
}

/** A POST helper that tallies answers by class and status and counts requests on new connections. */
function poster(port: number): { post: Post; tallies: Record<string, Tally>; newSockets: () => number } {
  const tallies: Record<string, Tally> = {};
  let fresh = 0;
  const post = (agent: https.Agent, route: string, body: string | Buffer, cls: string): Promise<number> =>
    new Promise((resolve) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          path: route,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json' },
          timeout: 30_000,
        },
        (res) => {
          if (!req.reusedSocket) fresh++;
          res.resume();
          res.on('end', () => {
            const t = (tallies[cls] ??= {});
            t[res.statusCode!] = (t[res.statusCode!] ?? 0) + 1;
            resolve(res.statusCode!);
          });
        },
      );
      req.on('error', (err) => {
        const t = (tallies[cls] ??= {});
        const key = (err as NodeJS.ErrnoException).code ?? 'error';
        t[key] = (t[key] ?? 0) + 1;
        resolve(0);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(body);
    });
  return { post, tallies, newSockets: () => fresh };
}

type Post = (agent: https.Agent, route: string, body: string | Buffer, cls: string) => Promise<number>;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-soak-'));
  const ca = createCA({ commonName: 'soak-ca' });
  const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const clientCA = createCA({ commonName: 'soak-client-ca' });
  const client = createClientCert(clientCA, { commonName: 'kube-apiserver' });
  const file = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 }), path.join(dir, name));
  const config = file('bulwark.yaml', `defaultAction: warn\nstore:\n  url: sqlite:${path.join(dir, 'alerts.db')}\n`);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      // BENCH_SOAK_PROF=DIR: a CPU profile of the server, written there when it stops.
      ...(process.env.BENCH_SOAK_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SOAK_PROF}`] : []),
      path.join(root, 'bin/bulwark.js'),
      'serve',
      '--config',
      config,
      '--port',
      String(port),
      '--address',
      '127.0.0.1',
      '--no-kube',
      '--tls-cert',
      file('tls.crt', leaf.certPem),
      '--tls-key',
      file('tls.key', leaf.keyPem),
      '--client-ca',
      file('client-ca.crt', clientCA.certPem),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BULWARK_LOG_LEVEL: 'error' } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));

  const trusted = new https.Agent({ keepAlive: true, maxSockets: 32, ca: ca.certPem, cert: client.certPem, key: client.keyPem });
  const anonymous = new https.Agent({ keepAlive: true, maxSockets: 8, ca: ca.certPem });
  const { post, tallies, newSockets } = poster(port);

  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const r = https.get({ host: '127.0.0.1', port, servername: 'localhost', path: '/readyz', ca: ca.certPem, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      r.on('error', () => resolve(false));
    });
    if (ok) break;
    if (i === 99) throw new Error(`bulwark serve did not become ready:\n${stderr}`);
    await sleep(100);
  }

  const out = (line: string) => void process.stdout.write(line + '\n');
  out(`bulwark soak — Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}, ${SECONDS} s, legit ${RATE} reviews/s`);

  const big = Buffer.from(review(bigDeployment(1024 * 1024), { userInfo: { username: 'mallory', groups: ['system:authenticated'] } }));
  const deep = Buffer.from('{"request":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}');
  const oversized = Buffer.alloc(8 * 1024 * 1024, 0x20);
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const rss: { t: number; kib: number }[] = [];
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  let legitExecs = 0;
  let n = 0;

  // Legitimate reviews come from their own thread, as the API server is its own process: the attack
  // traffic's TLS handshakes and timers on this thread's loop would otherwise delay their sends.
  const legit = new Worker(new URL(import.meta.url), {
    workerData: { port, ca: ca.certPem, cert: client.certPem, key: client.keyPem, seconds: SECONDS } satisfies LegitOptions,
  });
  const legitDone = new Promise<LegitResult>((resolve, reject) => {
    legit.once('message', resolve);
    legit.once('error', reject);
  });

  const every = (ms: number, fn: () => void, cls = '') => setInterval(() => performance.now() < deadline && !SKIP.has(cls) && fn(), ms);
  const timers = [
    every(1000, () => {
      const items = Array.from({ length: EXECS }, () => execEvent('team-legit', `exec-${legitExecs++}`, 'bob'));
      track(post(trusted, '/audit', eventList(items), 'legit audit batch'));
    }),
    // Attack traffic.
    every(
      20,
      () => {
        track(post(anonymous, '/validate', podReview(pod(`forged-${n++}`, 'team-legit', true), 'alice'), 'unauthenticated review'));
        track(post(anonymous, '/audit', eventList([execEvent('team-legit', `forged-${n++}`, 'alice')]), 'unauthenticated audit'));
      },
      'unauthenticated',
    ),
    every(
      25,
      () => track(post(trusted, '/validate', podReview(pod(`flood-${n++}`, 'team-x', true), 'mallory'), 'flood review (mallory)')),
      'flood review (mallory)',
    ),
    every(5000, () => track(post(trusted, '/validate', big, '1 MB review')), '1 MB review'),
    every(2000, () => track(post(trusted, '/validate', deep, 'deep JSON')), 'deep JSON'),
    every(1000, () => track(post(trusted, '/validate', '{"apiVersion": "admission.k8s.io/v1", "kind": ', 'malformed JSON')), 'malformed JSON'),
    every(10_000, () => track(post(anonymous, '/validate', oversized, 'oversized, unauthenticated')), 'oversized, unauthenticated'),
    every(10_000, () => track(post(trusted, '/validate', oversized, 'oversized, authenticated')), 'oversized, authenticated'),
    every(
      1000,
      () => {
        // A watch, an exec and a secrets list all under one chosen auditID.
        const id = 'aaaaaaaa-0000-0000-0000-000000000000';
        const e = execEvent('team-x', `chosen-${n++}`, 'mallory', id);
        track(post(trusted, '/audit', eventList([{ ...e, verb: 'watch', stage: 'ResponseStarted' }, e]), 'chosen auditID batch'));
      },
      'chosen auditID batch',
    ),
  ];
  // Slow-header connections (no certificate): 20 kept open, one header line every 2 s.
  const slow = new Set<tls.TLSSocket>();
  let slowOpened = 0;
  const slowTimer = every(
    500,
    () => {
      while (slow.size < 20) {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.certPem });
        slowOpened++;
        slow.add(s);
        s.on('secureConnect', () => s.write('POST /validate HTTP/1.1\r\nHost: localhost\r\n'));
        s.on('error', () => undefined);
        s.on('close', () => slow.delete(s));
      }
      for (const s of slow) if (s.writable) s.write(`X-Slow-${n++}: 1\r\n`);
    },
    'slow headers',
  );
  const cpuStart = readCpu(child.pid!);
  // The server's own event-loop delay (prom-client's nodejs_eventloop_lag_*, reset at each scrape):
  // what the server made reviews wait, apart from what the generator sharing the cores adds.
  const loop: { p99: number; max: number }[] = [];
  const scrapeLoop = () =>
    new Promise<void>((resolve) => {
      const req = https.get({ host: '127.0.0.1', port, servername: 'localhost', path: '/metrics', ca: ca.certPem, agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
          const p99 = value('nodejs_eventloop_lag_p99_seconds');
          if (Number.isFinite(p99)) loop.push({ p99, max: value('nodejs_eventloop_lag_max_seconds') });
          resolve();
        });
      });
      req.on('error', () => resolve());
    });
  const sampler = setInterval(() => {
    rss.push({ t: (performance.now() - started) / 1000, kib: readRss(child.pid!) });
    void scrapeLoop();
  }, 5000);

  while (performance.now() < deadline) await sleep(1000);
  for (const t of [slowTimer, sampler, ...timers]) clearInterval(t);
  for (const s of slow) s.destroy();
  await Promise.allSettled([...inflight]);
  const { latencies, serviceTimes, alerts: legitAlerts, tally } = await legitDone;
  tallies['legit review'] = tally;
  const cpuMs = (readCpu(child.pid!) - cpuStart) * (1000 / 100); // clock ticks (100 Hz) to ms
  trusted.destroy();
  anonymous.destroy();
  await sleep(2000); // the last alerts reach the store
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;

  // The store, read after a graceful stop: every legitimate alert must be there.
  const store = await openAlertStore(`sqlite:${path.join(dir, 'alerts.db')}`);
  const count = async (filter: AlertFilter, user: string): Promise<number> => {
    let found = 0;
    let cursor: string | undefined;
    do {
      const page = await store.list(filter, cursor, 1000);
      for (const a of page.items) if (a.user.username === user) found += a.count;
      cursor = page.nextCursor;
    } while (cursor);
    return found;
  };
  const storedLegit = await count({ type: ['privileged-container'], namespace: ['team-legit'] }, 'alice');
  const storedExecs = await count({ type: ['exec-into-pod'], namespace: ['team-legit'] }, 'bob');
  const flood = await count({ type: ['alert-flood'] }, 'mallory');
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
  const first = rss.filter((s) => s.t >= WARMUP_S && s.t < WARMUP_S + 60).map((s) => s.kib);
  const last = rss.filter((s) => s.t >= SECONDS - 60).map((s) => s.kib);
  const requests = Object.values(tallies).reduce((n, t) => n + Object.values(t).reduce((a, b) => a + b, 0), 0);

  out('requests by class (status: count):');
  for (const [cls, t] of Object.entries(tallies))
    out(
      `  ${cls.padEnd(28)} ${Object.entries(t)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
  out(`  slow-header connections opened: ${slowOpened}; requests on a new connection: ${newSockets()}`);
  out(
    `legit reviews: ${latencies.length}; p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms, p99.9 ${pct(99.9).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
  );
  serviceTimes.sort((a, b) => a - b);
  out(
    `  of which from send to answer: p50 ${serviceTimes[serviceTimes.length >> 1]!.toFixed(2)} ms, p99 ${serviceTimes[Math.floor(serviceTimes.length * 0.99)]!.toFixed(2)} ms`,
  );
  if (loop.length > 0) {
    out(
      `server event loop (per 5 s): p99 median ${median(loop.map((l) => l.p99)).toFixed(1)} ms, p99 max ${Math.max(...loop.map((l) => l.p99)).toFixed(1)} ms, max ${Math.max(...loop.map((l) => l.max)).toFixed(1)} ms`,
    );
  }
  out(`server CPU: ${(cpuMs / 1000).toFixed(1)} s over ${requests} requests (${((cpuMs * 1000) / requests).toFixed(0)} µs/request)`);
  out(
    `RSS (MiB): after warm-up ${(median(first) / 1024).toFixed(1)}, last minute ${(median(last) / 1024).toFixed(1)}, max ${(Math.max(...rss.map((s) => s.kib)) / 1024).toFixed(1)}`,
  );
  out(`alerts: legit admission ${storedLegit}/${legitAlerts}, legit exec ${storedExecs}/${legitExecs}, mallory's flood held back into alert-flood: ${flood}`);
  const flat = median(last) <= median(first) * 1.2;
  const lost = storedLegit !== legitAlerts || storedExecs !== legitExecs;
  const p99ok = pct(99) <= P99_BOUND_MS;
  out(`verdict: RSS flat ${flat ? 'yes' : 'NO'}; legitimate alerts lost ${lost ? 'YES' : 'none'}; p99 within ${P99_BOUND_MS} ms ${p99ok ? 'yes' : 'NO'}`);
  if (!flat || lost || !p99ok) process.exitCode = 1;
}

function readRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** utime + stime of a process, in clock ticks. */
function readCpu(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

interface LegitOptions {
  port: number;
  ca: string;
  cert: string;
  key: string;
  seconds: number;
}

interface LegitResult {
  latencies: number[];
  serviceTimes: number[];
  /** Privileged pods sent (each must be stored as an alert). */
  alerts: number;
  tally: Tally;
}

/** The worker: Pod reviews at RATE/s, open loop — request k is due at k / RATE s; latency counts from then. */
async function legitReviews(o: LegitOptions): Promise<LegitResult> {
  const { post, tallies } = poster(o.port);
  const trusted = new https.Agent({ keepAlive: true, maxSockets: 32, ca: o.ca, cert: o.cert, key: o.key });
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  const latencies: number[] = [];
  const serviceTimes: number[] = [];
  const inflight = new Set<Promise<unknown>>();
  let alerts = 0;
  let sent = 0;
  await new Promise<void>((finish) => {
    const sendDue = (): void => {
      const now = performance.now();
      if (now >= deadline) return finish();
      const due = Math.floor(((now - started) / 1000) * RATE) + 1;
      for (; sent < due; sent++) {
        const scheduled = started + (sent / RATE) * 1000;
        const privileged = sent % 20 === 0;
        if (privileged) alerts++;
        const body = podReview(pod(`legit-${sent}`, 'team-legit', privileged), 'alice');
        const sentAt = performance.now();
        const p = post(trusted, '/validate', body, 'legit review').then(() => {
          latencies.push(performance.now() - scheduled);
          serviceTimes.push(performance.now() - sentAt);
        });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      // Wake at the next request's due time, not on a coarse tick (the lag would count as latency).
      setTimeout(sendDue, Math.max(0, started + (sent / RATE) * 1000 - performance.now()));
    };
    sendDue();
  });
  await Promise.allSettled([...inflight]);
  trusted.destroy();
  return { latencies, serviceTimes, alerts, tally: tallies['legit review'] ?? {} };
}

if (isMainThread) await main();
else parentPort!.postMessage(await legitReviews(workerData as LegitOptions));
