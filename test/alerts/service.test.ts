// startAlertsService: the pipeline, store, retention and API built from the configuration,
// and the `store:` / `api:` settings with errors that name the key.
import fs from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { defaultConfig, parseConfig } from '../../config/load.js';
import { parseApiSettings, parseStoreSettings } from '../../alerts/settings.js';
import { startAlertsService } from '../../alerts/service.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import { makeAlert, memoryLogger, request, tempDir } from './support.js';

describe('store and api settings', () => {
  it('has the documented defaults', () => {
    expect(parseStoreSettings({})).toEqual({
      url: 'sqlite:./data/bulwark.db',
      dedupWindowMs: 600_000,
      retention: { maxAgeMs: 30 * 86_400_000, maxCount: 100_000, intervalMs: 3_600_000 },
      floodLimitPerMinute: 600,
      maxConnections: 10,
    });
    expect(parseApiSettings({}).enabled).toBe(false);
    expect(parseApiSettings({ tokenFile: 't.csv' })).toMatchObject({ enabled: true, port: 8444, auth: 'tokens', cacheTtlMs: 10_000 });
  });

  it('reads what the YAML says', () => {
    const config = parseConfig(`
store:
  url: postgres://bulwark@db/alerts
  dedupWindow: 5m
  retention: {maxAge: 7d, maxCount: 5000, interval: 15m}
  floodLimit: off
  maxConnections: 4
api:
  port: 9444
  address: 127.0.0.1
  auth: kubernetes
  roles: {admin: [security-admins], reader: [security-readers]}
`);
    expect(parseStoreSettings(config.store)).toEqual({
      url: 'postgres://bulwark@db/alerts',
      dedupWindowMs: 300_000,
      retention: { maxAgeMs: 7 * 86_400_000, maxCount: 5000, intervalMs: 900_000 },
      floodLimitPerMinute: null,
      maxConnections: 4,
    });
    expect(parseApiSettings(config.api)).toMatchObject({
      enabled: true,
      port: 9444,
      address: '127.0.0.1',
      auth: 'kubernetes',
      roles: { admin: ['security-admins'], reader: ['security-readers'] },
    });
    expect(parseStoreSettings({ retention: { maxAge: 'off', maxCount: null } }).retention).toMatchObject({ maxAgeMs: undefined, maxCount: undefined });
  });

  it.each([
    [{ url: 'mysql://x' }, /^store\.url: .*must start with sqlite:/],
    [{ dedupWindow: 'soon' }, /^store\.dedupWindow: must be a duration like 90s, 10m, 1h or 30d \(or a number of seconds\), got "soon"/],
    [{ retention: { maxAge: '30 days' } }, /^store\.retention\.maxAge: must be a duration/],
    [{ retention: { maxCount: -1 } }, /^store\.retention\.maxCount: must be a positive whole number/],
    [{ retention: { keep: 1 } }, /^store\.retention\.keep: unknown key \(known keys: maxAge, maxCount, interval\)/],
    [{ path: 'x' }, /^store\.path: unknown key \(known keys: url, dedupWindow, retention, floodLimit, maxConnections\)/],
    [{ maxConnections: 0 }, /^store\.maxConnections: must be a whole number from 1 to 100/],
    [{ maxConnections: 2.5 }, /^store\.maxConnections: must be a whole number from 1 to 100/],
    [{ maxConnections: '10' }, /^store\.maxConnections: must be a whole number from 1 to 100, got "10"/],
  ])('rejects store %j', (raw, message) => {
    expect(() => parseStoreSettings(raw as Record<string, unknown>)).toThrow(message);
  });

  it.each([
    [{ port: 'https' }, /^api\.port: must be a port number/],
    [{ auth: 'oidc', tokenFile: 'x' }, /^api\.auth: must be tokens or kubernetes, got "oidc"/],
    [{ port: 8444 }, /^api\.tokenFile: required when api\.auth is tokens/],
    [{ tokenFile: 'x', roles: { admin: 'security-admins' } }, /^api\.roles\.admin: must be a list of group names/],
    [{ tokenFile: 'x', roles: { owner: [] } }, /^api\.roles\.owner: unknown key/],
    [{ tokenFile: 'x', tlsCert: 'c.pem' }, /api\.tlsCert and api\.tlsKey go together/],
    [{ tokenFile: 'x', listen: 1 }, /^api\.listen: unknown key/],
  ])('rejects api %j', (raw, message) => {
    expect(() => parseApiSettings(raw as Record<string, unknown>)).toThrow(message);
  });
});

describe('startAlertsService', () => {
  it('stores alerts through the pipeline and has no API without an api: section', async () => {
    const dir = tempDir();
    const config = defaultConfig();
    config.store = { url: `sqlite:${path.join(dir, 'data', 'bulwark.db')}` };
    const registry = new Registry();
    const service = await startAlertsService(config, memoryLogger().logger, { registry });
    expect(service.api).toBeUndefined();
    const a = makeAlert();
    await service.pipeline.record(a);
    expect(await service.store.get(a.id)).toBeDefined();
    expect(await registry.metrics()).toMatch(/bulwark_alerts_total\{source="admission"\} 1/);
    await service.close();
    expect(fs.existsSync(path.join(dir, 'data', 'bulwark.db'))).toBe(true);
  });

  it('forwards new alerts to the notify: sinks that want them, with delivery metrics', async () => {
    const dir = tempDir();
    const config = parseConfig(`
store: {url: 'sqlite:${path.join(dir, 'a.db')}'}
notify:
  pollInterval: 50ms
  sinks:
    - {name: high-only, type: jsonl, file: high.jsonl, minSeverity: high}
    - {name: everything, type: jsonl, file: all.jsonl}
`);
    config.configDir = dir;
    const registry = new Registry();
    const { logger, lines } = memoryLogger();
    const service = await startAlertsService(config, logger, { registry });
    const high = makeAlert({ severity: 'high' });
    const low = makeAlert({ severity: 'low' });
    await service.pipeline.record(high);
    await service.pipeline.record(low);
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n').filter(Boolean) : []);
    for (let i = 0; i < 100 && read('all.jsonl').length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(read('all.jsonl').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([high.id, low.id]);
    expect(read('high.jsonl').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([high.id]);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/bulwark_notify_delivered_total\{sink="everything"\} 2/);
    expect(metrics).toMatch(/bulwark_notify_pending\{sink="high-only"\} 0/);
    expect(lines.some((l) => l.msg === 'alert forwarding on')).toBe(true);
    await service.close();
  });

  it('maintains (the maintenance Lease): a replica that does not hold it neither delivers nor prunes; once it does, both run', async () => {
    const dir = tempDir();
    const url = `sqlite:${path.join(dir, 'm.db')}`;
    const seed = await openAlertStore(url);
    vi.useFakeTimers({ toFake: ['Date'] });
    let old;
    try {
      vi.setSystemTime(Date.now() - 40 * 86_400_000);
      old = await seed.upsert(makeAlert({ firstSeen: new Date().toISOString() }), 1);
    } finally {
      vi.useRealTimers();
    }
    await seed.close();
    const config = parseConfig(`
store: {url: '${url}', retention: {maxAge: 30d, interval: 1s}}
notify:
  pollInterval: 50ms
  sinks: [{name: all, type: jsonl, file: all.jsonl}]
`);
    config.configDir = dir;
    let holds = false;
    const service = await startAlertsService(config, memoryLogger().logger, { maintains: () => holds });
    const fresh = makeAlert({ severity: 'high' });
    await service.pipeline.record(fresh);
    const delivered = () =>
      fs.existsSync(path.join(dir, 'all.jsonl')) ? fs.readFileSync(path.join(dir, 'all.jsonl'), 'utf8').trim().split('\n').filter(Boolean) : [];
    // Several poll and retention periods: nothing delivered, the 40-day-old alert still there.
    await new Promise((r) => setTimeout(r, 1300));
    expect(delivered()).toEqual([]);
    expect(await service.store.get(old.id)).toBeDefined();
    expect((await service.store.outboxStats()).all?.pending).toBe(1);
    holds = true;
    await vi.waitFor(() => expect(delivered().map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([fresh.id]), { timeout: 5000, interval: 50 });
    await vi.waitFor(async () => expect(await service.store.get(old.id)).toBeUndefined(), { timeout: 5000, interval: 100 });
    await service.close();
  });

  it('refuses to start with a sink that cannot work, naming the file and the sink', async () => {
    const dir = tempDir();
    const config = parseConfig(
      `store: {url: 'sqlite:${path.join(dir, 'a.db')}'}\nnotify: {sinks: [{name: soc, type: webhook, url: 'https://soc.example/x'}]}\n`,
    );
    await expect(startAlertsService(config, memoryLogger().logger, { configSource: 'bulwark.yaml' })).rejects.toThrow(
      'bulwark.yaml: notify.sinks[0] (soc): a webhook sink needs secretFile',
    );
    expect(fs.existsSync(path.join(dir, 'a.db'))).toBe(false);
  });

  it('applies retention at start', async () => {
    const dir = tempDir();
    const url = `sqlite:${path.join(dir, 'r.db')}`;
    const seed = await openAlertStore(url);
    vi.useFakeTimers({ toFake: ['Date'] });
    const now = Date.now();
    let old;
    const recent = [];
    try {
      // Stored 40 days ago (the store's clock decides, not the event time).
      vi.setSystemTime(now - 40 * 86_400_000);
      old = await seed.upsert(makeAlert({ firstSeen: new Date().toISOString() }), 1);
      // A back-filled event from a year ago, stored now, is kept; so are the others stored since.
      vi.setSystemTime(now - 5000);
      recent.push(await seed.upsert(makeAlert({ firstSeen: new Date(now - 365 * 86_400_000).toISOString() }), 1));
      for (let i = 1; i < 4; i++) {
        vi.setSystemTime(now - 5000 + i * 1000);
        recent.push(await seed.upsert(makeAlert({ firstSeen: new Date(now - i * 1000).toISOString() }), 1));
      }
    } finally {
      vi.useRealTimers();
    }
    await seed.close();
    const config = defaultConfig();
    config.store = { url, retention: { maxAge: '30d', maxCount: 3 } };
    const service = await startAlertsService(config, memoryLogger().logger);
    expect(await service.store.get(old.id)).toBeUndefined();
    // maxCount 3 keeps the three stored last; the back-filled year-old one outlived maxAge and went by count.
    expect((await service.store.list({}, undefined, 50)).items.map((x) => x.id).sort()).toEqual(
      recent
        .slice(1)
        .map((x) => x.id)
        .sort(),
    );
    await service.close();
  });

  it('serves the API with the token file, on the development certificate when none is configured', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'tokens.csv'), 'tok,alice,1,security-readers\n');
    const config = defaultConfig();
    config.store = { url: `sqlite:${path.join(dir, 'a.db')}` };
    config.api = { address: '127.0.0.1', tokenFile: path.join(dir, 'tokens.csv'), roles: { reader: ['security-readers'] } };
    const devCertDir = path.join(dir, 'dev-certs');
    const service = await startAlertsService(config, memoryLogger().logger, { apiPort: 0, devCertDir });
    try {
      const ca = fs.readFileSync(path.join(devCertDir, 'ca.crt'));
      const res = await request(`https://localhost:${service.api!.port}/api/v1/alerts`, { token: 'tok', ca });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ items: [] });
      expect((await request(`https://localhost:${service.api!.port}/healthz`, { ca })).json).toMatchObject({ status: 'ok', pipeline: { queued: 0 } });
    } finally {
      await service.close();
    }
  });

  it('fails to start, closing what it opened, when the token file is broken', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'tokens.csv'), 'tok,alice\n');
    const config = defaultConfig();
    config.store = { url: `sqlite:${path.join(dir, 'a.db')}` };
    config.api = { tokenFile: path.join(dir, 'tokens.csv') };
    await expect(startAlertsService(config, memoryLogger().logger, { apiPort: 0 })).rejects.toThrow(/tokens\.csv:1: expected token,user,uid/);
  });
});
