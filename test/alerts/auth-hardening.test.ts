// Install hardening of the alerts API (issue #20 items 4 and 5): a broken token file makes the
// API not ready and revokes its tokens, over real HTTPS; the Kubernetes settings are bounded.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, createServingCert } from '../../certs/x509.js';
import { defaultConfig } from '../../config/load.js';
import { parseApiSettings } from '../../alerts/settings.js';
import { startAlertsService, type AlertsService } from '../../alerts/service.js';
import { memoryLogger, request, tempDir } from './support.js';

describe('api settings: audiences and cache TTL', () => {
  it('asks for the Bulwark audience by default and caches for 10 s', () => {
    const s = parseApiSettings({ auth: 'kubernetes' });
    expect(s.audiences).toEqual(['bulwark']);
    expect(s.cacheTtlMs).toBe(10_000);
  });

  it('takes api.audiences and a cacheTTL up to 60 s', () => {
    const s = parseApiSettings({ auth: 'kubernetes', audiences: ['bulwark', 'https://kubernetes.default.svc'], cacheTTL: '60s' });
    expect(s.audiences).toEqual(['bulwark', 'https://kubernetes.default.svc']);
    expect(s.cacheTtlMs).toBe(60_000);
  });

  it.each([
    [{ cacheTTL: '61s' }, /api\.cacheTTL: must be at most 60s \(it is how long a revoked token or a removed RoleBinding keeps access\), got "61s"/],
    [{ cacheTTL: '1h' }, /api\.cacheTTL: must be at most 60s/],
    [{ audiences: [] }, /api\.audiences: must be a non-empty list of audience names/],
    [{ audiences: 'bulwark' }, /api\.audiences: must be a non-empty list/],
    [{ audiences: ['bulwark', ''] }, /api\.audiences: must be a non-empty list/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseApiSettings({ auth: 'kubernetes', ...raw })).toThrow(message);
  });
});

describe('alerts API readiness follows the token file', () => {
  const ca = createCA();
  const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  let service: AlertsService;
  let dir: string;
  let tokenFile: string;
  const get = (p: string, token?: string) => request(`https://127.0.0.1:${service.api!.port}${p}`, { ca: ca.certPem, ...(token ? { token } : {}) });

  beforeAll(async () => {
    dir = tempDir();
    tokenFile = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokenFile, 'reader-token-1,bob,u-2,security-readers\n');
    fs.writeFileSync(path.join(dir, 'tls.crt'), leaf.certPem);
    fs.writeFileSync(path.join(dir, 'tls.key'), leaf.keyPem);
    const config = defaultConfig();
    config.store = { url: `sqlite:${path.join(dir, 'a.db')}` };
    config.api = {
      tokenFile,
      roles: { reader: ['security-readers'] },
      address: '127.0.0.1',
      tlsCert: path.join(dir, 'tls.crt'),
      tlsKey: path.join(dir, 'tls.key'),
    };
    service = await startAlertsService(config, memoryLogger().logger, { apiPort: 0 });
  });
  afterAll(async () => service?.close());

  /** The API re-reads the file at most once a second: wait until it has seen the change. */
  async function until(predicate: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 60; i++) {
      if (await predicate()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the token file change was never seen');
  }

  it('is ready and lets the reader in while the file is good', async () => {
    expect((await get('/readyz')).json).toEqual({ status: 'ready' });
    expect((await get('/api/v1/alerts', 'reader-token-1')).status).toBe(200);
    expect(service.readiness!()).toEqual({ ready: true });
  });

  it('answers 503 with the reason and revokes every token once a bad line is written; recovers when fixed', async () => {
    fs.writeFileSync(tokenFile, 'reader-token-1,bob,u-2,security-readers\nbroken-line\n');
    await until(async () => (await get('/readyz')).status === 503);
    const ready = await get('/readyz');
    expect(ready.json.status).toBe('not ready');
    expect(ready.json.reason).toMatch(/tokens\.csv:2: expected token,user,uid.*every token of the file is revoked/s);
    expect(ready.text).not.toContain('reader-token-1');
    expect((await get('/api/v1/alerts', 'reader-token-1')).status).toBe(401);
    expect(service.readiness!().ready).toBe(false);

    fs.writeFileSync(tokenFile, 'reader-token-1,bob,u-2,security-readers\n');
    await until(async () => (await get('/readyz')).status === 200);
    expect((await get('/api/v1/alerts', 'reader-token-1')).status).toBe(200);
  });

  it('answers 503 and lets nobody in once the file is deleted', async () => {
    fs.rmSync(tokenFile);
    await until(async () => (await get('/readyz')).status === 503);
    expect((await get('/readyz')).json.reason).toMatch(/ENOENT/);
    expect((await get('/api/v1/alerts', 'reader-token-1')).status).toBe(401);
    fs.writeFileSync(tokenFile, 'reader-token-1,bob,u-2,security-readers\n');
    await until(async () => (await get('/readyz')).status === 200);
  });
});
