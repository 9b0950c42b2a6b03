// Who may feed the pipeline (#14 §2): POST /audit with audit.webhookTokenFile requires the bearer
// token (constant-time compare, checked before the body is read); without a token or a client
// certificate the route still works but its alerts are marked verified: false. A real HTTPS server.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertSink } from '../../alerts/model.js';
import { AuditAnalyser } from '../../audit/analyser.js';
import { mountAuditRoute } from '../../audit/webhook.js';
import { createCA, createServingCert } from '../../certs/x509.js';
import { defaultConfig } from '../../config/load.js';
import { createLogger } from '../../core/log.js';
import { FIXTURES } from './helpers.js';

const TOKEN = 'audit-token-7f3c9a1e5b2d4f60';
const ca = createCA();
const serving = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const servers: https.Server[] = [];
const batch = readFileSync(`${FIXTURES}session-batch.json`);

async function serve(options: { token?: string; unverified?: boolean }): Promise<{ port: number; alerts: Alert[] }> {
  const alerts: Alert[] = [];
  const sink: AlertSink = { record: async (a) => void alerts.push(a) };
  const app = express();
  mountAuditRoute(app, { analyser: new AuditAnalyser({ config: defaultConfig() }), sink, logger: createLogger({ level: 'silent' }), ...options });
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, alerts };
}

function post(port: number, headers: Record<string, string> = {}): Promise<{ status: number; text: string; auth?: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/audit',
        method: 'POST',
        ca: ca.certPem,
        servername: 'localhost',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, auth: res.headers['www-authenticate'] as string | undefined }));
      },
    );
    req.on('error', reject);
    req.end(batch);
  });
}

afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

describe('POST /audit authentication', () => {
  let port = 0;
  let alerts: Alert[] = [];
  beforeAll(async () => ({ port, alerts } = await serve({ token: TOKEN })));

  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer audit-token-7f3c9a1e5b2d4f61' }],
    ['the token as Basic credentials', { authorization: `Basic ${TOKEN}` }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }],
  ])('refuses %s with 401 and records nothing', async (_what, headers) => {
    const r = await post(port, headers);
    expect(r.status).toBe(401);
    expect(r.auth).toMatch(/^Bearer /);
    expect(alerts).toEqual([]);
  });

  it('accepts the token; its alerts are not marked unverified', async () => {
    const r = await post(port, { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => a.verified === undefined)).toBe(true);
  });
});

describe('an unauthenticated /audit (no token, no client CA)', () => {
  it('still works, and marks every alert verified: false', async () => {
    const { port, alerts } = await serve({ unverified: true });
    expect((await post(port)).status).toBe(200);
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => a.verified === false)).toBe(true);
  });
});
