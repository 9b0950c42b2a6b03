// The shared store suite on both stores, and what only a real process can show for SQLite:
// an acknowledged alert survives SIGKILL, and two processes on one file lose nothing.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteAlertStore } from '../../alerts/store-sqlite.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import { redactUrl, sqlitePath, storeKind } from '../../config/store-url.js';
import { startWorker } from './child.js';
import { storeSuite } from './store-suite.js';
import { makeAlert, POSTGRES_URL, tempDir } from './support.js';

storeSuite('SQLite', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'nested', 'dirs', 'bulwark.db');
  return {
    open: () => openAlertStore(`sqlite:${file}`),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

if (POSTGRES_URL) {
  const url = POSTGRES_URL;
  const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
  afterAll(() => admin.end());
  storeSuite('PostgreSQL', async () => {
    // A schema per test: isolation without a database per test.
    const schema = `t_${randomBytes(6).toString('hex')}`;
    return {
      open: () => openAlertStore(url, { schema }),
      cleanup: async () => {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    };
  });
  describe('PostgreSQL prepared statements', () => {
    it('a column added by a newer replica while the statements are prepared: the next batches still store (rolling upgrade)', async () => {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const store = await openAlertStore(url, { schema, poolSize: 1 });
      try {
        const first = makeAlert({ firstSeen: '2025-01-01T10:00:00.000Z' });
        await store.upsertMany([first], 600_000);
        // What a later version's migration could do, from another process, on the same table.
        await admin.query(`ALTER TABLE ${schema}.bulwark_alerts ADD COLUMN added_later text NOT NULL DEFAULT ''`);
        const again = makeAlert({ resource: first.resource, firstSeen: '2025-01-01T10:01:00.000Z' });
        const other = makeAlert({ firstSeen: '2025-01-01T10:02:00.000Z' });
        const out = await store.upsertMany([again, other], 600_000);
        expect(out.map((a) => [a.id, a.count])).toEqual([
          [first.id, 2],
          [other.id, 1],
        ]);
      } finally {
        await store.close();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    });
  });

  describe('PostgreSQL retention across replicas', () => {
    it('runs on one replica at a time: while another holds the retention lock, a prune deletes nothing', async () => {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const store = await openAlertStore(url, { schema });
      const holder = await admin.connect();
      try {
        await store.upsert(makeAlert({ firstSeen: '2025-01-01T10:00:00.000Z' }), 1);
        const later = Date.now() + 400 * 86_400_000;
        // Bulwark's lock class ("BULW") and the retention lock's key.
        await holder.query('SELECT pg_advisory_lock($1, 1)', [0x42554c57]);
        expect(await store.prune({ maxAgeMs: 86_400_000 }, later)).toBe(0);
        expect((await store.summary({})).total).toBe(1);
        await holder.query('SELECT pg_advisory_unlock($1, 1)', [0x42554c57]);
        expect(await store.prune({ maxAgeMs: 86_400_000 }, later)).toBe(1);
      } finally {
        holder.release();
        await store.close();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    });
  });
} else if (process.env.CI) {
  describe('AlertStore: PostgreSQL', () => {
    it('needs BULWARK_TEST_POSTGRES_URL on CI', () => {
      throw new Error('BULWARK_TEST_POSTGRES_URL is not set: CI must run test/support/postgres.sh (see .ci/run) so that the PostgreSQL store is tested');
    });
  });
} else {
  const message = 'PostgreSQL store suite SKIPPED: BULWARK_TEST_POSTGRES_URL is not set — run: eval "$(bash test/support/postgres.sh start)"';
  console.warn(`\n*** ${message}\n`);
  describe.skip(`AlertStore: PostgreSQL (${message})`, () => {
    it('runs the shared suite', () => undefined);
  });
}

describe('SQLite file store', () => {
  it('creates the file with its parent directories, in WAL mode with synchronous=FULL', () => {
    const dir = tempDir();
    const file = path.join(dir, 'a', 'b', 'alerts.db');
    const store = SqliteAlertStore.open(file);
    expect(fs.existsSync(file)).toBe(true);
    const db = (store as unknown as { db: { pragma(s: string, o: object): unknown } }).db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    void store.close();
  });

  it('keeps every acknowledged alert when the writing process is killed with SIGKILL', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'crash.db');
    const worker = startWorker([file, 'ack', '0', 'crash']);
    let acks = 0;
    await worker.waitFor((l) => l.startsWith('ack ') && ++acks >= 25);
    worker.proc.kill('SIGKILL');
    const exit = await worker.exited;
    expect(exit.signal).toBe('SIGKILL');
    const acked = worker.lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));
    expect(acked.length).toBeGreaterThanOrEqual(25);
    const store = await openAlertStore(`sqlite:${file}`);
    for (const id of acked) expect(await store.get(id), `acknowledged alert ${id}`).toBeDefined();
    await store.close();
  });

  it('loses nothing with several processes upserting one fingerprint into one file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'shared.db');
    SqliteAlertStore.open(file).close();
    const perWorker = 40;
    const workers = Array.from({ length: 4 }, () => startWorker([file, 'same', String(perWorker), 'contended']));
    await Promise.all(workers.map((w) => w.waitFor((l) => l === 'ready')));
    for (const w of workers) w.proc.stdin!.write('go\n'); // start together
    await Promise.all(workers.map((w) => w.waitFor((l) => l === 'done')));
    await Promise.all(workers.map((w) => w.exited));
    const store = await openAlertStore(`sqlite:${file}`);
    const { items } = await store.list({}, undefined, 500);
    expect(items).toHaveLength(1);
    expect(items[0]!.count).toBe(4 * perWorker);
    expect(items[0]!.auditIDs).toHaveLength(100);
    await store.close();
  });
});

describe('store URLs', () => {
  it.each([
    ['sqlite:./data/bulwark.db', 'sqlite', './data/bulwark.db'],
    ['sqlite:/var/lib/bulwark/alerts.db', 'sqlite', '/var/lib/bulwark/alerts.db'],
    ['sqlite:///var/lib/bulwark/alerts.db', 'sqlite', '/var/lib/bulwark/alerts.db'],
  ])('%s is a %s file at %s', (url, kind, file) => {
    expect(storeKind(url)).toBe(kind);
    expect(sqlitePath(url)).toBe(file);
  });

  it('knows postgres:// and postgresql://, and hides the password in descriptions', () => {
    expect(storeKind('postgres://u:p@h/db')).toBe('postgres');
    expect(storeKind('postgresql://u@h/db')).toBe('postgres');
    expect(redactUrl('postgres://bulwark:s3cret@db:5432/alerts')).toBe('postgres://bulwark:***@db:5432/alerts');
  });

  it('rejects anything else with the forms it accepts', () => {
    expect(() => storeKind('memory:')).toThrow(/must start with sqlite: .* or postgres:\/\//);
    expect(() => storeKind('mysql://u:secret@h/db')).toThrow(/u:\*\*\*@h/);
    expect(() => storeKind('sqlite:')).toThrow(/needs a file path/);
  });
});
