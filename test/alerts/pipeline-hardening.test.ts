// The pipeline under attack (#14 §2, §3): what comes in is bounded and JSON-safe, a flood of one
// (source, type) becomes one alert-flood alert, and a permanent store error dead-letters one alert
// instead of blocking the ones behind it. A real SQLite store (and PostgreSQL when configured).
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { boundAlert, boundEvidence, jsonSafe, MAX_EVIDENCE_BYTES, MAX_FINDINGS } from '../../alerts/bound.js';
import { ALERT_FLOOD } from '../../alerts/flood.js';
import type { Alert } from '../../alerts/model.js';
import { AlertPipeline, isPermanentStoreError } from '../../alerts/pipeline.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import type { AlertStore } from '../../alerts/store.js';
import { at, makeAlert, memoryLogger, POSTGRES_URL, tempDir } from './support.js';

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((s, v) => s + Number(v.value), 0);
}

describe('bounded alerts', () => {
  it('cuts cycles, BigInts, functions, depth, long strings and long arrays into plain JSON', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 50; i++) deep = { deep };
    const safe = jsonSafe({ cyclic, n: 10n, f: () => 1, deep, s: 'x'.repeat(5000), list: Array.from({ length: 500 }, (_, i) => i), inf: Infinity }) as Record<
      string,
      unknown
    >;
    expect(() => JSON.stringify(safe)).not.toThrow();
    expect((safe.cyclic as Record<string, unknown>).self).toBe('[cycle]');
    expect(safe.n).toBe('10');
    expect(safe).not.toHaveProperty('f');
    expect(JSON.stringify(safe.deep)).toContain('[too deep]');
    expect((safe.s as string).length).toBeLessThan(1100);
    expect((safe.list as unknown[]).length).toBe(101);
    expect(safe.inf).toBe('Infinity');
  });

  it('keeps the first 20 findings of 40,000 with their total, within 16 KiB', () => {
    const findings = Array.from({ length: 40_000 }, (_, i) => ({
      policy: 'privileged-container',
      message: `container "c${i}" is privileged`,
      path: `spec.containers[${i}]`,
    }));
    const ev = boundEvidence({ findings });
    expect(ev.findingsTotal).toBe(40_000);
    expect((ev.findings as unknown[]).length).toBe(MAX_FINDINGS);
    expect(Buffer.byteLength(JSON.stringify(ev))).toBeLessThanOrEqual(MAX_EVIDENCE_BYTES);
  });

  it('evidence still too large after that becomes a note of its size and keys', () => {
    const ev = boundEvidence(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])));
    expect(ev).toMatchObject({ truncated: true, bytes: expect.any(Number), keys: expect.arrayContaining(['k0']) });
  });

  it('clips the message and text fields', () => {
    const a = boundAlert(makeAlert({ message: 'm'.repeat(100_000), namespace: 'n'.repeat(10_000) }));
    expect(a.message.length).toBeLessThan(2100);
    expect(a.namespace.length).toBeLessThan(600);
  });
});

describe('AlertPipeline under attack', () => {
  const stores: AlertStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  async function setup(store?: AlertStore, floodLimitPerMinute?: number | null) {
    const s = store ?? (await openAlertStore(`sqlite:${path.join(tempDir(), 'p.db')}`));
    stores.push(s);
    const { logger, lines } = memoryLogger();
    const registry = new Registry();
    const pipeline = new AlertPipeline({ store: s, logger, registry, retryBaseMs: 20, retryMaxMs: 80, floodLimitPerMinute });
    return { store: s, lines, registry, pipeline };
  }

  const backends: [string, string | undefined][] = [['SQLite', undefined], ...(POSTGRES_URL ? [['PostgreSQL', POSTGRES_URL] as [string, string]] : [])];
  it.each(backends)('%s: an alert with a cycle, a BigInt and 40,000 findings is stored small', async (_name, url) => {
    const schema = `h_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const store = url ? await openAlertStore(url, { schema }) : undefined;
    const { pipeline, lines } = await setup(store);
    const evidence: Record<string, unknown> = {
      n: 1n,
      findings: Array.from({ length: 40_000 }, (_, i) => ({ policy: 'privileged-container', message: `c${i}` })),
    };
    evidence.loop = evidence;
    const a = makeAlert({ evidence });
    await pipeline.record(a);
    const stored = (await pipeline['store'].get(a.id))!;
    expect(stored).toBeDefined();
    expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThan(MAX_EVIDENCE_BYTES + 4096);
    expect(stored.evidence).toMatchObject({ n: '1', loop: '[cycle]', findingsTotal: 40_000 });
    expect(JSON.stringify(lines).length).toBeLessThan(100_000); // the log line is bounded too
    if (url) {
      const pg = await import('pg');
      const admin = new pg.default.Pool({ connectionString: url, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('a flood of one source, type and user: the first N stored, the rest counted into one alert-flood alert; other types unaffected; every one logged', async () => {
    const { store, lines, registry, pipeline } = await setup(undefined, 5);
    for (let i = 0; i < 20; i++) await pipeline.record(makeAlert({ firstSeen: at(i / 100), source: 'audit', type: 'exec-into-pod' }));
    const other = makeAlert({ firstSeen: at(0.5), source: 'audit', type: 'secrets-enumerated' });
    await pipeline.record(other);
    const all = (await store.list({}, undefined, 100)).items;
    expect(all.filter((a) => a.type === 'exec-into-pod')).toHaveLength(5);
    const flood = all.filter((a) => a.type === ALERT_FLOOD);
    expect(flood).toHaveLength(1);
    expect(flood[0]).toMatchObject({ count: 15, source: 'audit', severity: 'medium', evidence: { type: 'exec-into-pod', limitPerMinute: 5 } });
    expect(all.some((a) => a.id === other.id)).toBe(true);
    expect(lines.filter((l) => l.alert)).toHaveLength(21);
    expect(await metricValue(registry, 'bulwark_alerts_held_back_total', { type: 'exec-into-pod' })).toBe(15);
    expect(pipeline.status().heldBack).toBe(15);
  });

  it("one user's flood never holds back another user's alerts of the same type", async () => {
    const { store, pipeline } = await setup(undefined, 5);
    const mallory = { username: 'mallory', groups: [] };
    const alice = { username: 'alice', groups: ['devs'] };
    for (let i = 0; i < 30; i++) await pipeline.record(makeAlert({ firstSeen: at(i / 100), user: mallory }));
    const real = makeAlert({ firstSeen: at(0.5), user: alice, message: 'the one that matters' });
    await pipeline.record(real);
    const all = (await store.list({}, undefined, 100)).items;
    expect(all.some((a) => a.id === real.id)).toBe(true);
    expect(all.filter((a) => a.type === 'privileged-container' && a.user.username === 'mallory')).toHaveLength(5);
    const flood = all.filter((a) => a.type === ALERT_FLOOD);
    expect(flood).toHaveLength(1);
    expect(flood[0]).toMatchObject({ count: 25, user: { username: 'mallory' } });
    expect(flood[0]!.message).toMatch(/by "mallory"/);
  });

  it('background alerts are never held back (one per object, raised once by the scan)', async () => {
    const { store, pipeline } = await setup(undefined, 5);
    for (let i = 0; i < 20; i++) await pipeline.record(makeAlert({ firstSeen: at(i / 100), source: 'background', user: { username: '', groups: [] } }));
    const all = (await store.list({}, undefined, 100)).items;
    expect(all.filter((a) => a.source === 'background')).toHaveLength(20);
    expect(all.some((a) => a.type === ALERT_FLOOD)).toBe(false);
  });

  it('floodLimit off (null) stores everything', async () => {
    const { store, pipeline } = await setup(undefined, null);
    for (let i = 0; i < 30; i++) await pipeline.record(makeAlert({ firstSeen: at(i) }));
    expect((await store.list({}, undefined, 100)).items).toHaveLength(30);
  });

  it('a permanent store error dead-letters that alert, logged once and counted; the alerts behind it are stored', async () => {
    const real = await openAlertStore(`sqlite:${path.join(tempDir(), 'd.db')}`);
    const poison = makeAlert({ firstSeen: at(0), message: 'poison' });
    const store = Object.assign(Object.create(real) as AlertStore, {
      failing: true,
      async upsert(this: { failing: boolean }, alert: Alert, windowMs: number) {
        if (alert.id === poison.id) throw Object.assign(new Error('value too long for type character varying(64)'), { code: '22001' });
        if (this.failing) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return real.upsert(alert, windowMs);
      },
    });
    stores.push(real);
    const { lines, registry, pipeline } = await setup(store);
    await pipeline.record(makeAlert({ firstSeen: at(1) })); // queued: the store is down
    await pipeline.record(poison); // queued behind it
    await pipeline.record(makeAlert({ firstSeen: at(2) }));
    (store as unknown as { failing: boolean }).failing = false;
    await pipeline.flush();
    expect(pipeline.status()).toMatchObject({ queued: 0, deadLettered: 1 });
    expect((await real.list({}, undefined, 10)).items).toHaveLength(2);
    expect(await metricValue(registry, 'bulwark_alerts_dead_lettered_total')).toBe(1);
    expect(lines.filter((l) => /dead-lettered/.test(String(l.msg)))).toHaveLength(1);
  });

  it('recordMany stores a batch in one transaction; a poisoned batch goes one by one, only the poison dead-lettered; a failing store queues the batch', async () => {
    const real = await openAlertStore(`sqlite:${path.join(tempDir(), 'm.db')}`);
    stores.push(real);
    const poison = makeAlert({ firstSeen: at(0), message: 'poison' });
    const calls = { many: 0, one: 0 };
    const store = Object.assign(Object.create(real) as AlertStore, {
      failing: false,
      async upsert(this: { failing: boolean }, alert: Alert, windowMs: number) {
        calls.one++;
        if (alert.id === poison.id) throw Object.assign(new Error('value too long'), { code: '22001' });
        if (this.failing) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return real.upsert(alert, windowMs);
      },
      async upsertMany(this: { failing: boolean }, alerts: readonly Alert[], windowMs: number) {
        calls.many++;
        if (alerts.some((a) => a.id === poison.id)) throw Object.assign(new Error('value too long'), { code: '22001' });
        if (this.failing) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return real.upsertMany(alerts, windowMs);
      },
    });
    const { pipeline } = await setup(store);
    await pipeline.recordMany([1, 2, 3].map((m) => makeAlert({ firstSeen: at(m) })));
    expect(calls).toEqual({ many: 1, one: 0 });
    expect((await real.summary({})).total).toBe(3);
    await pipeline.recordMany([makeAlert({ firstSeen: at(4) }), poison, makeAlert({ firstSeen: at(5) })]);
    expect(calls).toEqual({ many: 2, one: 3 });
    expect((await real.summary({})).total).toBe(5);
    expect(pipeline.status()).toMatchObject({ deadLettered: 1, queued: 0 });
    (store as unknown as { failing: boolean }).failing = true;
    await pipeline.recordMany([makeAlert({ firstSeen: at(6) }), makeAlert({ firstSeen: at(7) })]);
    expect(pipeline.status().queued).toBe(2);
    (store as unknown as { failing: boolean }).failing = false;
    await pipeline.flush();
    expect((await real.summary({})).total).toBe(7);
  });

  it.each([
    [new TypeError('Converting circular structure to JSON'), true],
    [new RangeError('Invalid string length'), true],
    [Object.assign(new Error('invalid input syntax'), { code: '22P02' }), true],
    [Object.assign(new Error('index row size exceeds maximum'), { code: '54000' }), true],
    [Object.assign(new Error('string or blob too big'), { code: 'SQLITE_TOOBIG' }), true],
    [Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), false],
    [Object.assign(new Error('terminating connection'), { code: '57P01' }), false],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), false],
    [new Error('timeout'), false],
  ])('isPermanentStoreError(%s) is %s', (err, permanent) => {
    expect(isPermanentStoreError(err)).toBe(permanent);
  });
});
