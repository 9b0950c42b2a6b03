// The alerts API's port keeps the webhook port's limits (#14 §3): a client that never completes its
// TLS handshake or its headers is cut off, and the number of open connections is capped. Real
// sockets against a real listener; the limits are made small so the test is quick.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERTS_API_LIMITS, MAX_LIST_BYTES, startAlertsApi, type RunningAlertsApi } from '../../alerts/api.js';
import { TokenFileAccess } from '../../alerts/auth.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import type { AlertStore } from '../../alerts/store.js';
import { createCA, createServingCert } from '../../certs/x509.js';
import { DEFAULT_LISTENER_LIMITS } from '../../core/listener.js';
import { makeAlert, memoryLogger, request, tempDir } from './support.js';

const ca = createCA({ commonName: 'limits-ca' });
const leaf = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
let store: AlertStore;
let api: RunningAlertsApi;

/** Resolves when the server closes the socket (or it errors), with what it sent. */
const closed = (socket: net.Socket): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
  });

const tlsOpen = (): Promise<tls.TLSSocket> =>
  new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: api.port, servername: 'localhost', ca: ca.certPem });
    s.once('secureConnect', () => resolve(s)).once('error', reject);
  });

beforeAll(async () => {
  const dir = tempDir();
  store = await openAlertStore(`sqlite:${path.join(dir, 'a.db')}`);
  fs.writeFileSync(path.join(dir, 't.csv'), 'tok-1,alice,u-1,security-readers\n');
  const { logger } = memoryLogger();
  const access = new TokenFileAccess(path.join(dir, 't.csv'), { admin: [], reader: ['security-readers'] }, logger);
  api = await startAlertsApi({
    store,
    access,
    logger,
    port: 0,
    address: '127.0.0.1',
    tls: { cert: leaf.certPem, key: leaf.keyPem },
    limits: { handshakeTimeoutMs: 300, headersTimeoutMs: 300, requestTimeoutMs: 600, maxConnections: 3 },
  });
});
afterAll(async () => {
  await api.close();
  await store.close();
});

describe('alerts API listener limits', () => {
  it('has the webhook port’s timeouts and a cap by default', () => {
    expect(ALERTS_API_LIMITS).toMatchObject({
      handshakeTimeoutMs: DEFAULT_LISTENER_LIMITS.handshakeTimeoutMs,
      headersTimeoutMs: DEFAULT_LISTENER_LIMITS.headersTimeoutMs,
      requestTimeoutMs: DEFAULT_LISTENER_LIMITS.requestTimeoutMs,
      maxConnections: 256,
    });
  });

  it('closes a TCP connection that never starts its TLS handshake', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: api.port });
    expect(await closed(socket)).toBe('');
  }, 10_000);

  it('closes a TLS connection that never finishes its headers (slow loris)', async () => {
    const socket = await tlsOpen();
    socket.write('GET /api/v1/alerts HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    const text = await closed(socket);
    expect(text === '' || /^HTTP\/1\.1 408/.test(text)).toBe(true);
  }, 10_000);

  it('refuses connections over the cap, and serves again once they are gone', async () => {
    const held = await Promise.all([tlsOpen(), tlsOpen(), tlsOpen()]);
    // The fourth is closed before its handshake completes.
    await expect(tlsOpen()).rejects.toThrow();
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const r = await request(`${api.url}/healthz`, { ca: ca.certPem });
    expect(r.status).toBe(200);
  }, 10_000);

  it('a list page is bounded in bytes as well as count; its continue token resumes right after it, no gaps, no repeats', async () => {
    const ids = new Set<string>();
    const big = 'e'.repeat(15_000);
    for (let i = 0; i < 400; i++)
      ids.add((await store.upsert(makeAlert({ firstSeen: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), evidence: { big } }), 1)).id);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await request(`${api.url}/api/v1/alerts?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`, { ca: ca.certPem, token: 'tok-1' });
      expect(r.status).toBe(200);
      expect(Buffer.byteLength(r.text)).toBeLessThan(MAX_LIST_BYTES + 64 * 1024);
      const page = JSON.parse(r.text) as { items: { id: string }[]; continue?: string };
      seen.push(...page.items.map((a) => a.id));
      token = page.continue;
      pages++;
    } while (token && pages < 10);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(ids);
  }, 30_000);
});
