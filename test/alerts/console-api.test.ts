// The console's side of the alerts API over real HTTPS: the session cookie and its CSRF rules,
// the page and its assets with their headers, and the endpoints the pages read (summary, trends,
// facets, posture, notify, whoami, the list's sort, search and until).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, createServingCert } from '../../certs/x509.js';
import { startAlertsApi, type RunningAlertsApi } from '../../alerts/api.js';
import { TokenFileAccess } from '../../alerts/auth.js';
import { CONTENT_SECURITY_POLICY, loadConsoleAssets, MAX_SESSION_TOKEN, SESSION_COOKIE } from '../../alerts/console.js';
import type { PostureSnapshot } from '../../alerts/posture.js';
import { type AlertStore } from '../../alerts/store.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import type { Alert } from '../../alerts/model.js';
import { makeAlert, memoryLogger, request, tempDir } from './support.js';

const ca = createCA({ commonName: 'console-api-test-ca' });
const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const TOKENS = { admin: 'admin-c0ffee', reader: 'reader-beef01', norole: 'norole-dead02' };
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 4, 12);

let store: AlertStore;
let api: RunningAlertsApi;
let bare: RunningAlertsApi;
let base: string;
let posture: PostureSnapshot | undefined;
let scanRunning = true;
const seeded: Alert[] = [];

const call = (url: string, opts: Parameters<typeof request>[1] = {}) => request(base + url, { ca: ca.certPem, ...opts });
const cookieOf = (token: string) => `${SESSION_COOKIE}=${Buffer.from(token).toString('base64url')}`;
const asConsole = (token: string, extra: Record<string, string> = {}) => ({ cookie: cookieOf(token), 'x-bulwark-console': '1', ...extra });

beforeAll(async () => {
  const dir = tempDir();
  store = await openAlertStore(`sqlite:${path.join(dir, 'console.db')}`);
  const tokenFile = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokenFile, `${TOKENS.admin},alice,u-1,"security-admins"\n${TOKENS.reader},bob,u-2,security-readers\n${TOKENS.norole},carol,u-3,devs\n`);
  const { logger } = memoryLogger();
  const access = new TokenFileAccess(tokenFile, { admin: ['security-admins'], reader: ['security-readers'] }, logger);
  // A console install of its own: the page, a stylesheet and one built script.
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'ui'));
  fs.mkdirSync(path.join(root, 'dist', 'ui'), { recursive: true });
  fs.writeFileSync(path.join(root, 'ui', 'index.html'), '<!doctype html><title>Bulwark</title>');
  fs.writeFileSync(path.join(root, 'ui', 'style.css'), 'body{}');
  fs.writeFileSync(path.join(root, 'ui', 'notes.txt'), 'not served');
  fs.writeFileSync(path.join(root, 'dist', 'ui', 'app.js'), 'export {};');
  const assets = loadConsoleAssets(root);
  // Both servers: the same store, tokens and certificate, on a free loopback port.
  const common = { store, access, logger, port: 0, address: '127.0.0.1', tls: { cert: leaf.certPem, key: leaf.keyPem } } as const;
  api = await startAlertsApi({
    ...common,
    consoleAssets: assets ?? null,
    now: () => NOW,
    posture: { posture: () => posture, enabled: () => scanRunning },
    notifySinks: [
      { name: 'siem', type: 'syslog' },
      { name: 'chat', type: 'slack' },
    ],
  });
  base = `https://127.0.0.1:${api.port}`;
  // An install whose console scripts were never built (ui/ there, dist/ui/ not).
  const unbuilt = tempDir();
  fs.mkdirSync(path.join(unbuilt, 'ui'));
  fs.writeFileSync(path.join(unbuilt, 'ui', 'index.html'), '<!doctype html>');
  bare = await startAlertsApi({ ...common, consoleRoot: unbuilt });
  const severities = ['high', 'medium', 'low', 'informational'] as const;
  for (let i = 0; i < 24; i++) {
    seeded.push(
      await store.upsert(
        makeAlert({
          type: i % 3 ? 'privileged-container' : 'exec-into-pod',
          severity: severities[i % 4]!,
          namespace: i % 2 ? 'prod' : 'dev',
          firstSeen: new Date(NOW - (i % 6) * DAY - 3_600_000).toISOString(),
          count: i + 1,
          sourceIPs: [`10.0.0.${i % 3}`],
          message: i === 5 ? 'container "Miner" runs xmrig' : 'plain',
        }),
        1,
        i === 0 ? ['siem'] : [],
      ),
    );
  }
});

afterAll(async () => {
  await api?.close();
  await bare?.close();
  await store?.close();
});

describe('the console page and its assets', () => {
  it('serves the page for every console path, and only the built assets', async () => {
    for (const p of ['/ui/', '/ui/alerts', '/ui/alerts/some-id', '/ui/posture?namespace=prod']) {
      const res = await call(p);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<title>Bulwark</title>');
    }
    expect((await call('/ui/assets/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await call('/ui/assets/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    for (const p of ['/ui/assets/notes.txt', '/ui/assets/..%2F..%2Fpackage.json', '/ui/assets/index.html', '/ui/assets/nothing.js'])
      expect((await call(p)).status).toBe(404);
    const root = await call('/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/ui/');
  });

  it('puts a strict CSP and the anti-framing, no-sniff and no-referrer headers on every answer', async () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*|https?:/);
    for (const p of ['/ui/', '/ui/assets/app.js', '/api/v1/alerts', '/healthz', '/nowhere']) {
      const res = await call(p);
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('says how to build the console when its scripts were not built', async () => {
    const res = await request(`https://127.0.0.1:${bare.port}/ui/alerts`, { ca: ca.certPem });
    expect(res.status).toBe(503);
    expect(res.text).toContain('npm run build');
    // The API itself still answers.
    expect((await request(`https://127.0.0.1:${bare.port}/api/v1/alerts?limit=1`, { ca: ca.certPem, token: TOKENS.reader })).status).toBe(200);
  });
});

describe('the console session', () => {
  it('signs in with an API token into a Secure, HttpOnly, SameSite=Strict __Host- cookie, and out again', async () => {
    const res = await call('/ui/session', { method: 'POST', body: { token: TOKENS.reader }, headers: { 'x-bulwark-console': '1' } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ username: 'bob', groups: ['security-readers'], canUpdate: false });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toBe(`${cookieOf(TOKENS.reader)}; Path=/; Secure; HttpOnly; SameSite=Strict`);
    expect((await call('/ui/session', { headers: { cookie: cookieOf(TOKENS.reader) } })).json).toEqual({
      signedIn: true,
      username: 'bob',
      groups: ['security-readers'],
      canUpdate: false,
    });
    const out = await call('/ui/session', { method: 'DELETE', headers: asConsole(TOKENS.reader) });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
  });

  it('refuses a sign-in without the console header, with a bad token, one without a role, or one too long for a cookie', async () => {
    const post = (token: unknown, headers: Record<string, string> = { 'x-bulwark-console': '1' }) =>
      call('/ui/session', { method: 'POST', body: { token }, headers });
    expect((await post(TOKENS.admin, {})).status).toBe(403);
    expect((await post(TOKENS.admin, { 'x-bulwark-console': '1', origin: 'https://evil.example' })).status).toBe(403);
    const bad = await post('not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    expect((await post(TOKENS.norole)).status).toBe(403);
    expect((await post('x'.repeat(MAX_SESSION_TOKEN + 1))).status).toBe(400);
    expect((await post('two words')).status).toBe(400);
    expect((await post(42)).status).toBe(400);
    // The body is bounded before it is parsed.
    expect((await post('x'.repeat(9000))).status).toBe(413);
    expect((await call('/ui/session', { method: 'PUT', headers: { 'x-bulwark-console': '1' } })).status).toBe(405);
  });

  it('says "signed out" (200) for no cookie, and clears a cookie whose token is not valid', async () => {
    expect((await call('/ui/session')).json).toEqual({ signedIn: false });
    const stale = await call('/ui/session', { headers: { cookie: cookieOf('revoked-token') } });
    expect(stale.json).toEqual({ signedIn: false });
    expect(String(stale.headers['set-cookie'])).toContain('Max-Age=0');
    // A malformed cookie is no session at all.
    expect((await call('/api/v1/alerts', { headers: { cookie: `${SESSION_COOKIE}=%%%` } })).status).toBe(401);
    expect((await call('/api/v1/alerts', { headers: { cookie: `${SESSION_COOKIE}=${'A'.repeat(5000)}` } })).status).toBe(401);
  });

  it('lets the cookie read, and change only with the console header from the same origin, as an admin', async () => {
    const id = seeded[1]!.id;
    expect((await call('/api/v1/alerts?limit=1', { headers: { cookie: cookieOf(TOKENS.reader) } })).status).toBe(200);
    const change = (token: string, headers: Record<string, string>) =>
      call(`/api/v1/alerts/${id}/status`, {
        method: 'POST',
        body: { status: 'in-progress', reason: 'triage' },
        headers: { cookie: cookieOf(token), ...headers },
      });
    const noHeader = await change(TOKENS.admin, {});
    expect(noHeader.status).toBe(403);
    expect(noHeader.json.error).toContain('x-bulwark-console');
    expect((await change(TOKENS.admin, { 'x-bulwark-console': '1', origin: 'https://evil.example' })).status).toBe(403);
    expect((await change(TOKENS.admin, { 'x-bulwark-console': '1', 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await change(TOKENS.reader, { 'x-bulwark-console': '1' })).status).toBe(403);
    expect((await store.get(id))!.status).toBe('active');
    const ok = await change(TOKENS.admin, { 'x-bulwark-console': '1', origin: base.replace('https://', 'https://'), 'sec-fetch-site': 'same-origin' });
    // Origin carries the Host the browser used; here that is 127.0.0.1:port.
    expect(ok.status).toBe(200);
    expect(ok.json.history[0]).toMatchObject({ by: 'alice', reason: 'triage', to: 'in-progress' });
    // The Authorization header needs none of it (no cookie, no ambient credential to forge).
    const bearer = await call(`/api/v1/alerts/${id}/status`, { method: 'POST', token: TOKENS.admin, body: { status: 'active', reason: 'back' } });
    expect(bearer.status).toBe(200);
  });

  it('ends the session when the token stops being valid', async () => {
    const res = await call('/api/v1/alerts', { headers: { cookie: cookieOf('no-longer-valid') } });
    expect(res.status).toBe(401);
    expect(res.json.error).toContain('sign in again');
    expect(String(res.headers['set-cookie'])).toContain('Max-Age=0');
  });
});

describe('what the pages read', () => {
  const get = (p: string) => call(p, { token: TOKENS.reader });

  it('whoami tells a reader from an admin', async () => {
    expect((await get('/api/v1/whoami')).json).toEqual({ username: 'bob', groups: ['security-readers'], canUpdate: false });
    expect((await call('/api/v1/whoami', { token: TOKENS.admin })).json.canUpdate).toBe(true);
    expect((await call('/api/v1/whoami', { token: TOKENS.norole })).status).toBe(403);
  });

  it('sorts, searches and bounds the list by until; refuses bad values by name', async () => {
    const byCount = await get('/api/v1/alerts?sort=count&order=asc&limit=5');
    expect(byCount.json.items.map((a: Alert) => a.count)).toEqual([1, 2, 3, 4, 5]);
    const next = await get(`/api/v1/alerts?sort=count&order=asc&limit=5&continue=${byCount.json.continue}`);
    expect(next.json.items.map((a: Alert) => a.count)).toEqual([6, 7, 8, 9, 10]);
    const wrongSort = await get(`/api/v1/alerts?limit=5&continue=${byCount.json.continue}`);
    expect(wrongSort.status).toBe(400);
    expect(wrongSort.json).toMatchObject({ parameter: 'continue' });
    expect((await get('/api/v1/alerts?q=XMRIG')).json.items.map((a: Alert) => a.message)).toEqual(['container "Miner" runs xmrig']);
    const until = await get('/api/v1/alerts?until=2d&limit=100');
    expect(until.json.items.every((a: Alert) => Date.parse(a.lastSeen) < NOW - 2 * DAY)).toBe(true);
    expect(until.json.items.length).toBeGreaterThan(0);
    for (const [query, parameter] of [
      ['sort=title', 'sort'],
      ['order=up', 'order'],
      [`q=${'x'.repeat(201)}`, 'q'],
      ['until=yesterday', 'until'],
      ['q=a&q=b', 'q'],
    ] as const) {
      const res = await get(`/api/v1/alerts?${query}`);
      expect(res.status).toBe(400);
      expect(res.json.parameter).toBe(parameter);
    }
  });

  it('summary counts what the same filters match', async () => {
    expect((await get('/api/v1/summary')).json).toEqual({ total: 24, bySeverity: { high: 6, medium: 6, low: 6, informational: 6 }, byStatus: { active: 24 } });
    expect((await get('/api/v1/summary?namespace=prod&minSeverity=medium')).json.total).toBe(6);
    expect((await get('/api/v1/summary?q=xmrig')).json.total).toBe(1);
    expect((await get('/api/v1/summary?limit=5')).status).toBe(400);
  });

  it('trends cover whole UTC days up to today, with the top tallies', async () => {
    const res = await get('/api/v1/trends?days=7&top=2');
    expect(res.status).toBe(200);
    expect(res.json.days).toHaveLength(7);
    expect(res.json.days[6].day).toBe('2026-12-04');
    const total = res.json.days.reduce((n: number, d: { bySeverity: Record<string, number> }) => n + Object.values(d.bySeverity).reduce((a, b) => a + b, 0), 0);
    expect(total).toBe(24);
    expect(res.json.types).toEqual([
      { key: 'privileged-container', count: 16 },
      { key: 'exec-into-pod', count: 8 },
    ]);
    expect(res.json.sourceIPs).toHaveLength(2);
    for (const q of ['days=0', 'days=367', 'top=51', 'days=x', 'since=1d']) expect((await get(`/api/v1/trends?${q}`)).status).toBe(400);
  });

  it('facets list the types and namespaces in the store', async () => {
    expect((await get('/api/v1/facets')).json).toEqual({ types: ['privileged-container', 'exec-into-pod'], namespaces: ['dev', 'prod'], clusters: [] });
    expect((await get('/api/v1/summary?cluster=prod-eu-1')).json.total).toBe(0);
    expect((await get('/api/v1/summary?cluster=')).json.total).toBe(24); // none of them names a cluster
  });

  it('posture says when the scan is off or not ready, then serves its snapshot', async () => {
    scanRunning = false;
    expect((await get('/api/v1/posture')).json).toMatchObject({ enabled: false });
    scanRunning = true;
    posture = undefined;
    expect((await get('/api/v1/posture')).json).toMatchObject({ enabled: true, ready: false });
    posture = {
      evaluatedAt: '2026-12-04T11:00:00.000Z',
      namespaces: [{ namespace: 'shop', fail: 2, warn: 1, error: 0, wouldDeny: 1 }],
      policies: [{ policy: 'privileged-container', category: 'defender', severity: 'high', fail: 2, warn: 0, error: 0 }],
      results: [],
      omitted: 0,
      wouldDeny: [{ namespace: 'shop', kind: 'Pod', name: 'web', policies: ['privileged-container'] }],
    };
    expect((await get('/api/v1/posture')).json).toEqual({ enabled: true, ready: true, ...posture });
  });

  it('notify shows each sink with its backlog, and no URL or secret', async () => {
    const res = await get('/api/v1/notify');
    expect(res.json.sinks).toEqual([
      { name: 'siem', type: 'syslog', pending: 1, failing: 0, oldestQueued: expect.any(String) },
      { name: 'chat', type: 'slack', pending: 0, failing: 0 },
    ]);
  });

  it('answers 405 for other methods on the new routes', async () => {
    for (const p of ['/api/v1/summary', '/api/v1/trends', '/api/v1/facets', '/api/v1/posture', '/api/v1/notify', '/api/v1/whoami']) {
      const res = await call(p, { method: 'POST', token: TOKENS.admin, body: {} });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET');
    }
  });
});
