// The console's first page with 100,000 alerts, in SQLite and in PostgreSQL: what a browser asks
// when it opens /ui/alerts — the page and its assets, the session check, then the first 50 alerts
// and the counts above the table (both at once, as the page does). Also a filtered and searched
// first page, the page sorted by count, the trends page's query and an alert's detail.
// Goal: every first page under 200 ms (median and p95 reported).
// Run: npx tsc -p tsconfig.json && npx tsc -p ui/tsconfig.json && node dist/bench/console.js
//   PostgreSQL too when BULWARK_TEST_POSTGRES_URL is set (bash test/support/postgres.sh start).
//   BENCH_CONSOLE_ALERTS=N changes the 100,000.
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { startAlertsApi } from '../alerts/api.js';
import { TokenFileAccess } from '../alerts/auth.js';
import { openAlertStore } from '../alerts/store-factory.js';
import type { AlertStore } from '../alerts/store.js';
import { createCA, createServingCert } from '../certs/x509.js';
import { seedAlerts } from '../test/support/alerts-seed.js';

const COUNT = Number(process.env.BENCH_CONSOLE_ALERTS ?? 100_000);
const ROUNDS = 40;
const TOKEN = 'bench-reader-token';

const agent = new https.Agent({ keepAlive: true, maxSockets: 6, rejectUnauthorized: false });

function get(base: string, p: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(base + p, { agent, headers: { cookie, accept: '*/*' } }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${p}: ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function seed(store: AlertStore): Promise<number> {
  const started = Date.now();
  const alerts = seedAlerts(COUNT, { seed: 42 });
  for (let i = 0; i < alerts.length; i += 2000) await store.upsertMany(alerts.slice(i, i + 2000), 1);
  return Date.now() - started;
}

async function run(name: string, store: AlertStore): Promise<void> {
  const seedMs = await seed(store);
  const total = (await store.summary({})).total;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-console-'));
  const tokens = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokens, `${TOKEN},rita,u1,"security-readers"\n`);
  const ca = createCA({ commonName: 'bench-ca' });
  const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const logger = pino({ level: 'warn' });
  const access = new TokenFileAccess(tokens, { admin: [], reader: ['security-readers'] }, logger);
  const api = await startAlertsApi({ store, access, logger, port: 0, address: '127.0.0.1', tls: { cert: leaf.certPem, key: leaf.keyPem } });
  const base = `https://127.0.0.1:${api.port}`;
  const cookie = `__Host-bulwark-session=${Buffer.from(TOKEN).toString('base64url')}`;
  const assets = [
    '/ui/assets/style.css',
    '/ui/assets/icon.svg',
    ...fs
      .readdirSync('dist/ui')
      .filter((f) => f.endsWith('.js'))
      .map((f) => `/ui/assets/${f}`),
  ];
  const anAlert = (await store.list({}, undefined, 1)).items[0]!.id;

  const pages: Record<string, (t0: number) => Promise<void>> = {
    'first page': async () => {
      await get(base, '/ui/alerts', cookie);
      await Promise.all(assets.map((a) => get(base, a, cookie)));
      await get(base, '/ui/session', cookie);
      await Promise.all([get(base, '/api/v1/alerts?limit=50', cookie), get(base, '/api/v1/summary', cookie)]);
    },
    'filtered + searched (severity=high, q=pod-1)': async () => {
      await get(base, '/ui/session', cookie);
      const q = 'severity=high&q=pod-1';
      await Promise.all([get(base, `/api/v1/alerts?${q}&limit=50`, cookie), get(base, `/api/v1/summary?${q}`, cookie)]);
    },
    'sorted by count': async () => {
      await get(base, '/ui/session', cookie);
      await Promise.all([get(base, '/api/v1/alerts?sort=count&limit=50', cookie), get(base, '/api/v1/summary', cookie)]);
    },
    'namespace filter, page 2': async () => {
      const first = await new Promise<string>((resolve, reject) => {
        https
          .get(base + '/api/v1/alerts?namespace=prod&limit=50', { agent, headers: { cookie } }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve((JSON.parse(text) as { continue?: string }).continue ?? ''));
          })
          .on('error', reject);
      });
      await get(base, `/api/v1/alerts?namespace=prod&limit=50&continue=${first}`, cookie);
    },
    'alert detail': async () => {
      await get(base, '/ui/session', cookie);
      await get(base, `/api/v1/alerts/${anAlert}`, cookie);
    },
    'trends (30 days)': async () => {
      await get(base, '/api/v1/trends?days=30', cookie);
    },
  };
  console.log(`\n${name}: ${total.toLocaleString('en')} alerts (seeded in ${(seedMs / 1000).toFixed(1)} s)`);
  console.log('  page                                          median     p95    max');
  for (const [label, load] of Object.entries(pages)) {
    await load(0); // warm
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      await load(t0);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const fmt = (v: number) => `${v.toFixed(1).padStart(6)} ms`;
    console.log(`  ${label.padEnd(44)}${fmt(quantile(times, 0.5))}${fmt(quantile(times, 0.95))}${fmt(times[times.length - 1]!)}`);
  }
  await api.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-bench-console-db-'));
const sqlite = await openAlertStore(`sqlite:${path.join(dir, 'alerts.db')}`);
try {
  await run('SQLite', sqlite);
} finally {
  await sqlite.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
const url = process.env.BULWARK_TEST_POSTGRES_URL;
if (url) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pg = await openAlertStore(url, { schema });
  try {
    await run('PostgreSQL', pg);
  } finally {
    const { default: postgres } = await import('pg');
    const admin = new postgres.Pool({ connectionString: url, max: 1 });
    await pg.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
} else {
  console.log('\nPostgreSQL: skipped (set BULWARK_TEST_POSTGRES_URL)');
}
agent.destroy();
