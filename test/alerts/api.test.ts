// The alerts API over real HTTPS: roles, filters, pagination, status changes, errors.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, createServingCert } from '../../certs/x509.js';
import { startAlertsApi, type RunningAlertsApi } from '../../alerts/api.js';
import { TokenFileAccess } from '../../alerts/auth.js';
import { type AlertStore } from '../../alerts/store.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import type { Alert } from '../../alerts/model.js';
import { at, makeAlert, memoryLogger, request, tempDir } from './support.js';

const ca = createCA({ commonName: 'alerts-api-test-ca' });
const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const TOKENS = { admin: 'admin-0f3a9c', reader: 'reader-77b1e2', norole: 'norole-5d5d5d' };

let store: AlertStore;
let api: RunningAlertsApi;
let base: string;
let logLines: Record<string, any>[];
const seeded: Alert[] = [];

const call = (pathAndQuery: string, opts: Parameters<typeof request>[1] = {}) => request(base + pathAndQuery, { ca: ca.certPem, ...opts });

beforeAll(async () => {
  const dir = tempDir();
  store = await openAlertStore(`sqlite:${path.join(dir, 'api.db')}`);
  const tokenFile = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokenFile, `${TOKENS.admin},alice,u-1,"security-admins,devs"\n${TOKENS.reader},bob,u-2,security-readers\n${TOKENS.norole},carol,u-3,devs\n`);
  const { logger, lines } = memoryLogger();
  logLines = lines;
  const access = new TokenFileAccess(tokenFile, { admin: ['security-admins'], reader: ['security-readers'] }, logger);
  api = await startAlertsApi({ store, access, logger, port: 0, address: '127.0.0.1', tls: { cert: leaf.certPem, key: leaf.keyPem } });
  base = `https://127.0.0.1:${api.port}`;
  const types = ['privileged-container', 'exec-into-pod', 'nodeport-service'];
  const severities = ['high', 'medium', 'low', 'informational'] as const;
  for (let i = 0; i < 120; i++) {
    seeded.push(
      await store.upsert(
        makeAlert({
          type: types[i % 3]!,
          severity: severities[i % 4]!,
          source: i % 3 === 1 ? 'audit' : 'admission',
          namespace: i % 2 ? 'prod' : 'dev',
          firstSeen: at(Math.floor(i / 4)),
        }),
        600_000,
      ),
    );
  }
});

afterAll(async () => {
  await api?.close();
  await store?.close();
});

describe('roles', () => {
  const id = () => seeded[0]!.id;
  const cases: [string, string | undefined, 'list' | 'get' | 'status', number][] = [];
  for (const [who, token, expected] of [
    ['no token', undefined, { list: 401, get: 401, status: 401 }],
    ['a bad token', 'not-a-token', { list: 401, get: 401, status: 401 }],
    ['a user without a role', TOKENS.norole, { list: 403, get: 403, status: 403 }],
    ['a reader', TOKENS.reader, { list: 200, get: 200, status: 403 }],
    ['an admin', TOKENS.admin, { list: 200, get: 200, status: 200 }],
  ] as const) {
    for (const op of ['list', 'get', 'status'] as const) cases.push([who, token, op, expected[op]]);
  }

  it.each(cases)('%s → %s: %s', async (_who, token, op, expected) => {
    const target = seeded[1]!.id;
    const res =
      op === 'list'
        ? await call('/api/v1/alerts', token === undefined ? {} : { token })
        : op === 'get'
          ? await call(`/api/v1/alerts/${id()}`, token === undefined ? {} : { token })
          : await call(`/api/v1/alerts/${target}/status`, {
              method: 'POST',
              ...(token === undefined ? {} : { token }),
              body: { status: 'in-progress', reason: 'looking' },
            });
    if (op === 'status' && expected === 200) {
      // the admin's change goes through; put it back for the other cases
      expect(res.json).toMatchObject({ status: 'in-progress' });
      await store.setStatus(target, 'active', 'test', '');
    }
    expect(res.status).toBe(expected);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    if (expected === 401) {
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="bulwark"/);
      expect(res.json.error).toBeTruthy();
    }
    if (expected === 403) expect(res.json.error).toMatch(/may not (list|get|update) alerts/);
  });

  it('never logs a token', () => {
    expect(JSON.stringify(logLines)).not.toMatch(new RegExp(Object.values(TOKENS).join('|')));
    expect(logLines.some((l) => l.msg === 'alerts api request' && l.user === 'bob')).toBe(true);
  });

  it('leaves /healthz open for probes', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(200);
  });
});

describe('GET /api/v1/alerts', () => {
  const list = (query: string) => call(`/api/v1/alerts${query}`, { token: TOKENS.reader });

  it('pages with an opaque continue token: default 50, stable order, no duplicates', async () => {
    const first = await list('');
    expect(first.status).toBe(200);
    expect(first.json.items).toHaveLength(50);
    const ids: string[] = [];
    let next: string | undefined;
    let res = await list('?limit=45');
    for (;;) {
      ids.push(...res.json.items.map((a: Alert) => a.id));
      next = res.json.continue;
      if (!next) break;
      res = await list(`?limit=45&continue=${encodeURIComponent(next)}`);
    }
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(120);
    const expected = [...seeded].sort((a, b) => (a.lastSeen === b.lastSeen ? (a.id < b.id ? -1 : 1) : a.lastSeen < b.lastSeen ? 1 : -1)).map((a) => a.id);
    expect(ids).toEqual(expected);
  });

  it.each([
    ['?severity=high,low', (a: Alert) => a.severity === 'high' || a.severity === 'low'],
    ['?severity=high&severity=low', (a: Alert) => a.severity === 'high' || a.severity === 'low'],
    ['?minSeverity=medium', (a: Alert) => a.severity === 'high' || a.severity === 'medium'],
    ['?type=exec-into-pod&namespace=prod', (a: Alert) => a.type === 'exec-into-pod' && a.namespace === 'prod'],
    ['?source=audit', (a: Alert) => a.source === 'audit'],
    ['?status=active,in-progress', () => true],
    ['?since=2025-01-01T10:20:00Z', (a: Alert) => a.lastSeen >= '2025-01-01T10:20:00.000Z'],
    ['?since=2025-01-01T12:20:00%2B02:00', (a: Alert) => a.lastSeen >= '2025-01-01T10:20:00.000Z'],
    ['?since=2025-01-01T12:20:00+02:00', (a: Alert) => a.lastSeen >= '2025-01-01T10:20:00.000Z'],
  ])('filters %s', async (query, keep) => {
    const res = await list(`${query}${query.includes('?') ? '&' : '?'}limit=500`);
    expect(res.status).toBe(200);
    const want = seeded
      .filter(keep)
      .map((a) => a.id)
      .sort();
    expect(res.json.items.map((a: Alert) => a.id).sort()).toEqual(want);
    expect(want.length).toBeGreaterThan(0);
  });

  it('takes since as a duration back from now', async () => {
    const recent = await store.upsert(makeAlert({ firstSeen: new Date().toISOString() }), 600_000);
    const res = await list('?since=1h');
    expect(res.json.items.map((a: Alert) => a.id)).toEqual([recent.id]);
  });

  it.each([
    ['?severity=urgent', 'severity', /invalid severity "urgent": allowed values are informational, low, medium, high/],
    ['?minSeverity=critical', 'minSeverity', /allowed values are informational, low, medium, high/],
    ['?status=open', 'status', /allowed values are active, in-progress, resolved, dismissed/],
    ['?source=kubelet', 'source', /allowed values are admission, audit/],
    ['?since=yesterday', 'since', /RFC 3339 time .* or a duration/],
    ['?limit=0', 'limit', /from 1 to 500/],
    ['?limit=501', 'limit', /from 1 to 500/],
    ['?limit=ten', 'limit', /from 1 to 500/],
    ['?continue=garbage', 'continue', /continue token is not valid/],
    ['?namepsace=prod', 'namepsace', /unknown parameter "namepsace": allowed parameters are severity, minSeverity/],
    ['?severity=', 'severity', /parameter severity is empty/],
    ['?limit=5&limit=6', 'limit', /may be given once/],
  ])('rejects %s with 400 naming %s', async (query, parameter, message) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    expect(res.json.parameter).toBe(parameter);
    expect(res.json.error).toMatch(message);
  });
});

describe('GET /api/v1/alerts/{id}', () => {
  it('returns the alert, or 404 JSON', async () => {
    const ok = await call(`/api/v1/alerts/${seeded[5]!.id}`, { token: TOKENS.reader });
    expect(ok.json).toEqual(seeded[5]);
    const missing = await call('/api/v1/alerts/does-not-exist', { token: TOKENS.reader });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: 'alert "does-not-exist" not found' });
  });
});

describe('POST /api/v1/alerts/{id}/status', () => {
  const post = (id: string, body: string | object, contentType?: string) =>
    call(`/api/v1/alerts/${id}/status`, { method: 'POST', token: TOKENS.admin, body, ...(contentType !== undefined ? { contentType } : {}) });

  it('moves an alert through the statuses, appending history with the caller and reason', async () => {
    const id = seeded[10]!.id;
    expect((await post(id, { status: 'in-progress', reason: 'triage' })).status).toBe(200);
    expect((await post(id, { status: 'resolved' })).status).toBe(200);
    const res = await post(id, { status: 'dismissed', reason: 'false positive: CI runner' });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('dismissed');
    expect(res.json.history.map((h: any) => [h.from, h.to, h.by, h.reason])).toEqual([
      ['active', 'in-progress', 'alice', 'triage'],
      ['in-progress', 'resolved', 'alice', ''],
      ['resolved', 'dismissed', 'alice', 'false positive: CI runner'],
    ]);
    const again = await post(id, { status: 'dismissed', reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/already dismissed/);
  });

  it.each([
    ['dismiss without a reason', { status: 'dismissed' }, 400, /a reason is required to dismiss/],
    ['dismiss with a blank reason', { status: 'dismissed', reason: '   ' }, 400, /a reason is required/],
    ['an unknown status', { status: 'closed' }, 400, /status must be one of active, in-progress, resolved, dismissed/],
    ['no status', { reason: 'x' }, 400, /status must be one of/],
    ['a non-string reason', { status: 'resolved', reason: 5 }, 400, /reason must be a string/],
    ['an unknown field', { status: 'resolved', note: 'x' }, 400, /unknown field "note"/],
    ['an array body', [1], 400, /must be a JSON object/],
    ['bad JSON', '{"status": ', 400, /not valid JSON/],
  ])('rejects %s', async (_name, body, status, message) => {
    const res = await post(seeded[11]!.id, body);
    expect(res.status).toBe(status);
    expect(res.json.error).toMatch(message);
  });

  it('answers 415 to a body that is not JSON', async () => {
    const form = await post(seeded[11]!.id, 'status=resolved', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect(form.json.error).toMatch(/Content-Type: application\/json/);
    const none = await post(seeded[11]!.id, '{"status":"resolved"}', '');
    expect(none.status).toBe(415);
  });

  it('answers 404 for an unknown alert and 405 for other methods', async () => {
    const res = await post('nope', { status: 'resolved' });
    expect(res.status).toBe(404);
    const del = await call(`/api/v1/alerts/${seeded[11]!.id}`, { method: 'DELETE', token: TOKENS.admin });
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET');
    const unknown = await call('/api/v2/things', { token: TOKENS.admin });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatch(/no route/);
  });

  it('answers 400 JSON, not 500, to a JSON null body and to a malformed %-escape in the path', async () => {
    for (const body of ['null', '5', '"resolved"']) {
      const res = await post(seeded[11]!.id, body);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(/must be a JSON object/);
    }
    for (const p of ['/api/v1/alerts/%E0%A4%A', '/api/v1/alerts/%zz/status']) {
      const res = await call(p, { token: TOKENS.admin, ...(p.endsWith('status') ? { method: 'POST', body: { status: 'resolved' } } : {}) });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(/decode/);
    }
    expect(logLines.filter((l) => l.msg === 'alerts api request failed')).toEqual([]);
  });
});
