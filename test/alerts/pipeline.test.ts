// The pipeline never loses an alert: log line first, store next, and a bounded retry queue
// (merged by fingerprint) while the store fails — counted in metrics and visible in status().
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertPipeline } from '../../alerts/pipeline.js';
import { type AlertStore } from '../../alerts/store.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import { fingerprintOf, type Alert } from '../../alerts/model.js';
import { at, makeAlert, memoryLogger, tempDir } from './support.js';

/** A real SQLite store that can be made to fail, as a network store does. */
function flaky(store: AlertStore): AlertStore & { failing: boolean; attempts: number } {
  const f = Object.assign(Object.create(store) as AlertStore, { failing: false, attempts: 0 });
  f.upsert = async (alert: Alert, windowMs: number) => {
    f.attempts++;
    if (f.failing) throw new Error('connection refused');
    return store.upsert(alert, windowMs);
  };
  return f;
}

async function metricValue(registry: Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((s, v) => s + Number(v.value), 0);
}

const waitUntil = async (cond: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('AlertPipeline', () => {
  const stores: AlertStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  async function setup(options: { maxQueue?: number; cluster?: string } = {}) {
    const store = await openAlertStore(`sqlite:${path.join(tempDir(), 'p.db')}`);
    stores.push(store);
    const f = flaky(store);
    const { logger, lines } = memoryLogger();
    const registry = new Registry();
    const pipeline = new AlertPipeline({ store: f, logger, registry, retryBaseMs: 20, retryMaxMs: 80, ...options });
    return { store, f, lines, registry, pipeline };
  }

  it('names the cluster (cluster.name) on every alert that names none, in its fingerprint too; an alert that names one keeps it', async () => {
    const { store, pipeline } = await setup({ cluster: 'prod-eu-1' });
    const plain = makeAlert({ firstSeen: at(0) });
    await pipeline.record(plain);
    const stored = (await store.get(plain.id))!;
    expect(stored.cluster).toBe('prod-eu-1');
    expect(stored.fingerprint).toBe(fingerprintOf({ ...plain, cluster: 'prod-eu-1' }));
    expect(stored.fingerprint).not.toBe(plain.fingerprint);
    const named = makeAlert({ cluster: 'other', firstSeen: at(1) });
    await pipeline.record(named);
    expect((await store.get(named.id))!.cluster).toBe('other');
    expect(plain.cluster).toBeUndefined(); // the caller's alert is not changed
  });
  it('writes the pino alert line and stores the alert, de-duplicated by fingerprint', async () => {
    const { store, lines, registry, pipeline } = await setup();
    const a = makeAlert({ firstSeen: at(0) });
    await pipeline.record(a);
    await pipeline.record(makeAlert({ resource: a.resource, firstSeen: at(1), source: 'audit' }));
    expect(lines.filter((l) => l.alert).map((l) => l.alert.type)).toEqual(['privileged-container', 'privileged-container']);
    expect((await store.get(a.id))!.count).toBe(2);
    expect(await metricValue(registry, 'bulwark_alerts_total')).toBe(2);
    expect(await metricValue(registry, 'bulwark_alert_store_writes_total')).toBe(2);
  });

  it('queues while the store fails, merges the queue by fingerprint, and stores everything once it recovers', async () => {
    const { store, f, lines, registry, pipeline } = await setup();
    f.failing = true;
    const a = makeAlert({ firstSeen: at(0) });
    await pipeline.record(a);
    await pipeline.record(makeAlert({ resource: a.resource, firstSeen: at(1) }));
    const b = makeAlert({ firstSeen: at(2) });
    await pipeline.record(b);
    expect(pipeline.status()).toMatchObject({ queued: 2, dropped: 0, lastError: 'connection refused' });
    expect(await metricValue(registry, 'bulwark_alert_store_queue')).toBe(2);
    expect(await metricValue(registry, 'bulwark_alert_store_failures_total')).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.level === 50 && /alert store write failed/.test(l.msg))).toBe(true);
    await waitUntil(() => f.attempts >= 3); // it retries on its own
    f.failing = false;
    await waitUntil(() => pipeline.status().queued === 0);
    expect((await store.get(a.id))!.count).toBe(2);
    expect(await store.get(b.id)).toBeDefined();
    expect(pipeline.status()).toMatchObject({ queued: 0, lastError: undefined });
    expect(lines.some((l) => /writes succeed again/.test(l.msg))).toBe(true);
    await pipeline.close();
  });

  it('bounds the queue, dropping the oldest (still in the log) and counting it', async () => {
    const { f, lines, registry, pipeline } = await setup({ maxQueue: 3 });
    f.failing = true;
    for (let i = 0; i < 5; i++) await pipeline.record(makeAlert());
    expect(pipeline.status()).toMatchObject({ queued: 3, dropped: 2 });
    expect(await metricValue(registry, 'bulwark_alerts_dropped_total')).toBe(2);
    expect(lines.filter((l) => l.alert)).toHaveLength(5);
    expect(lines.filter((l) => /queue is full/.test(l.msg))).toHaveLength(2);
    await pipeline.close();
    expect(pipeline.status().dropped).toBe(5);
  });

  it('is backlogged from half its queue on, so that producers that can resend (the audit webhook) are refused before anything is dropped', async () => {
    const { f, pipeline } = await setup({ maxQueue: 4 });
    f.failing = true;
    await pipeline.record(makeAlert());
    expect(pipeline.backlogged()).toBe(false);
    await pipeline.record(makeAlert());
    expect(pipeline.backlogged()).toBe(true);
    expect(pipeline.status()).toMatchObject({ queued: 2, dropped: 0 });
    f.failing = false;
    await waitUntil(() => pipeline.status().queued === 0);
    expect(pipeline.backlogged()).toBe(false);
    await pipeline.close();
  });

  it('flushes the queue on close when the store is back', async () => {
    const { store, f, pipeline } = await setup();
    f.failing = true;
    const a = makeAlert();
    await pipeline.record(a);
    f.failing = false;
    await pipeline.close();
    expect(await store.get(a.id)).toBeDefined();
    expect(pipeline.status()).toMatchObject({ queued: 0, dropped: 0 });
  });

  it('shares one registry between pipelines without registering metrics twice', async () => {
    const { store } = await setup();
    const registry = new Registry();
    const { logger } = memoryLogger();
    new AlertPipeline({ store, logger, registry });
    expect(() => new AlertPipeline({ store, logger, registry })).not.toThrow();
  });
});
