// A store written by an earlier Bulwark opens, gains the columns of this one (additively, once), and
// keeps every alert: retention then runs by the store's clock, old rows taking their lastSeen.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openAlertStore } from '../../alerts/store-factory.js';
import { makeAlert, POSTGRES_URL, tempDir } from './support.js';

// The tables as the first release made them.
const SQLITE_V0 = `
CREATE TABLE alerts (id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL, namespace TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, body TEXT NOT NULL);`;

describe('store migrations', () => {
  it('SQLite: an old file gains updated_ms (from lastSeen) once; alerts are kept; two opens agree', async () => {
    const file = path.join(tempDir(), 'old.db');
    const db = new Database(file);
    db.exec(SQLITE_V0);
    const old = makeAlert({ firstSeen: '2025-01-01T10:00:00.000Z' });
    db.prepare('INSERT INTO alerts VALUES (?, ?, ?, ?, 3, ?, ?, ?, ?, ?, ?)').run(
      old.id,
      old.fingerprint,
      old.type,
      old.severity,
      old.source,
      old.status,
      old.namespace,
      Date.parse(old.firstSeen),
      Date.parse(old.lastSeen),
      JSON.stringify(old),
    );
    db.close();
    const [a, b] = await Promise.all([openAlertStore(`sqlite:${file}`), openAlertStore(`sqlite:${file}`)]);
    expect(await a.get(old.id)).toEqual(old);
    const check = new Database(file, { readonly: true });
    // Every migration applied once (2: the service-account baseline table; 3: the notification
    // outbox; 4: the console's count, user name and search text, filled from the stored alert).
    expect(check.pragma('user_version', { simple: true })).toBe(5);
    expect(check.prepare('SELECT count, username, source_ips, search FROM alerts WHERE id = ?').get(old.id)).toEqual({
      count: old.count,
      username: 'alice',
      source_ips: '[]',
      search: expect.stringContaining('privileged-container\nprivileged container\ncontainer "app" is privileged'),
    });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'notify_outbox'").get()).toEqual({ name: 'notify_outbox' });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'anomaly_baseline'").get()).toEqual({ name: 'anomaly_baseline' });
    expect((check.prepare('SELECT updated_ms FROM alerts WHERE id = ?').get(old.id) as { updated_ms: number }).updated_ms).toBe(Date.parse(old.lastSeen));
    check.close();
    // Old rows age from their lastSeen: a year later they go.
    expect((await b.summary({ text: 'APP" IS PRIV' })).total).toBe(1);
    expect(await b.prune({ maxAgeMs: 30 * 86_400_000 }, Date.parse('2025-01-20T00:00:00Z'))).toBe(0);
    expect(await b.prune({ maxAgeMs: 30 * 86_400_000 }, Date.parse('2026-01-20T00:00:00Z'))).toBe(1);
    await a.close();
    await b.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it.skipIf(!POSTGRES_URL)('PostgreSQL: an old table gains updated_at (from last_seen), with replicas starting together', async () => {
    const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const schema = `m_${randomBytes(6).toString('hex')}`;
    try {
      // Let this release make the table, then take it back to the first release's shape.
      const first = await openAlertStore(POSTGRES_URL!, { schema });
      const old = makeAlert({ firstSeen: '2025-01-01T10:00:00.000Z' });
      await first.upsert(old, 1);
      await first.close();
      const versions = async () =>
        (await admin.query(`SELECT version, applied_at FROM ${schema}.bulwark_schema_migrations ORDER BY version`)).rows.map((r) => [
          r.version,
          r.applied_at.toISOString(),
        ]);
      expect((await versions()).map((v) => v[0])).toEqual([1, 2, 3, 4, 5, 6]);
      // Opening again applies nothing: the recorded versions stay as they were.
      const before = await versions();
      await (await openAlertStore(POSTGRES_URL!, { schema })).close();
      expect(await versions()).toEqual(before);
      // The first release's shape: no updated_at, no search column, no versions recorded.
      await admin.query(`ALTER TABLE ${schema}.bulwark_alerts DROP COLUMN updated_at, DROP COLUMN search`);
      await admin.query(`DROP TABLE ${schema}.bulwark_schema_migrations`);
      const stores = await Promise.all([0, 1, 2].map(() => openAlertStore(POSTGRES_URL!, { schema })));
      const r = await admin.query(`SELECT updated_at, last_seen FROM ${schema}.bulwark_alerts WHERE id = $1`, [old.id]);
      expect(r.rows[0].updated_at.toISOString()).toBe(r.rows[0].last_seen.toISOString());
      expect(await stores[0]!.get(old.id)).toEqual(old);
      // The search text is filled for the rows already there; each change is recorded once.
      expect((await stores[2]!.summary({ text: 'APP" IS PRIV' })).total).toBe(1);
      expect((await versions()).map((v) => v[0])).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await stores[1]!.prune({ maxAgeMs: 30 * 86_400_000 }, Date.parse('2026-01-20T00:00:00Z'))).toBe(1);
      for (const s of stores) await s.close();
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
