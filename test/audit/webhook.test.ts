// POST /audit against a real HTTPS express server: EventList batches as the API server's audit
// webhook backend sends them.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, AlertSink } from '../../alerts/model.js';
import { createLogger } from '../../core/log.js';
import { AuditAnalyser } from '../../audit/analyser.js';
import { mountAuditRoute } from '../../audit/webhook.js';
import { createCA, createServingCert } from '../../certs/x509.js';
import { defaultConfig } from '../../config/load.js';
import { FIXTURES, auditEvent, auditID } from './helpers.js';

class MemorySink implements AlertSink {
  alerts: Alert[] = [];
  failNext = 0;
  async record(alert: Alert): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('database is locked');
    }
    this.alerts.push(alert);
  }
}

const ca = createCA();
const serving = createServingCert(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
let server: https.Server;
let port = 0;
let sink: MemorySink;
let analyser: AuditAnalyser;
/** What the route's back-pressure hook answers (AlertPipeline.backlogged in serve). */
let backlog = false;

beforeAll(async () => {
  const app = express();
  // The server's own routes and parsers may sit before the hook; the audit route brings its own.
  app.get('/healthz', (_req, res) => void res.send('ok'));
  mountAuditRoute(app, {
    get analyser() {
      return analyser;
    },
    get sink() {
      return sink;
    },
    logger: createLogger({ level: 'silent' }),
    backlogged: () => backlog,
  } as Parameters<typeof mountAuditRoute>[1]);
  server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  backlog = false;
  sink = new MemorySink();
  analyser = new AuditAnalyser({ config: defaultConfig() });
});

function post(
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; json: any; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/audit', method: 'POST', ca: ca.certPem, servername: 'localhost', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const batch = (items: unknown[]) => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });

describe('POST /audit', () => {
  it('processes an EventList batch and answers 200 once the alerts are recorded', async () => {
    const r = await post(readFileSync(`${FIXTURES}session-batch.json`));
    expect(r.status).toBe(200);
    // Named as `audit scan`'s summary: 14 occurrences make 12 alerts (the exec twice).
    expect(r.json).toEqual({ events: 25, alerts: 12, occurrences: 14 });
    // Each occurrence goes to the sink (the store pipeline merges by fingerprint): the exec is two.
    const execs = sink.alerts.filter((a) => a.type === 'exec-into-pod');
    expect(execs.length).toBe(2);
    expect(execs[0]!.fingerprint).toBe(execs[1]!.fingerprint);
    expect(new Set(sink.alerts.map((a) => a.type)).size).toBe(12);
    expect(sink.alerts.every((a) => a.source === 'audit')).toBe(true);
  });

  it('an exec across batches: alerts at ResponseStarted, not at the later ResponseComplete', async () => {
    const id = auditID();
    const ref = { resource: 'pods', namespace: 'prod', name: 'web-0', apiVersion: 'v1', subresource: 'exec' };
    const ev = (stage: string) =>
      auditEvent({ auditID: id, stage: stage as 'ResponseStarted', verb: 'create', objectRef: ref, responseStatus: { metadata: {}, code: 101 } });
    expect((await post(batch([ev('ResponseStarted')]))).json.alerts).toBe(1);
    expect((await post(batch([ev('ResponseComplete')]))).json.alerts).toBe(0);
    expect(sink.alerts.length).toBe(1);
  });

  it('4xx JSON errors for malformed bodies; nothing is processed', async () => {
    const bad = await post('{"kind":"EventList",');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('not valid JSON');
    const deep = await post('{"kind":"EventList","items":' + '['.repeat(2000) + ']'.repeat(2000) + '}');
    expect(deep.status).toBe(400);
    expect(deep.json.error).toMatch(/more than 1000 levels deep/);
    expect((await post(JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1' }))).json.error).toContain('kind must be EventList');
    expect((await post(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: {} }))).status).toBe(400);
    const partly = await post(batch([auditEvent({ verb: 'list', objectRef: { resource: 'secrets', apiVersion: 'v1' } }), { stage: 'ResponseComplete' }]));
    expect(partly.status).toBe(422);
    expect(partly.json.details).toEqual(['items[1]: missing auditID']);
    expect(sink.alerts).toEqual([]);
    expect((await post('[]')).status).toBe(400);
  });

  it('a body over 12 MiB is 413; a 10 MiB batch is accepted', async () => {
    const big = auditEvent({ level: 'RequestResponse', requestObject: { data: 'x'.repeat(1024 * 1024) } });
    const tenMiB = batch(Array.from({ length: 9 }, () => ({ ...big, auditID: auditID() })));
    expect(Buffer.byteLength(tenMiB)).toBeGreaterThan(9 * 1024 * 1024);
    expect((await post(tenMiB)).status).toBe(200);
    const tooBig = batch(Array.from({ length: 13 }, () => ({ ...big, auditID: auditID() })));
    const r = await post(tooBig);
    expect(r.status).toBe(413);
    expect(r.json.error).toContain('larger than');
  });

  it('503 with Retry-After, before reading the batch, while the alert store is behind; the resend is processed in full', async () => {
    const body = readFileSync(`${FIXTURES}session-batch.json`);
    backlog = true;
    const refused = await post(body);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json.error).toMatch(/alert store is behind/);
    expect(analyser.stats.events).toBe(0);
    expect(sink.alerts).toEqual([]);
    backlog = false;
    const r = await post(body);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ events: 25, alerts: 12, occurrences: 14 });
  });

  it('503 when recording fails; the API server retry is then processed in full', async () => {
    const body = batch([auditEvent({ verb: 'list', objectRef: { resource: 'secrets', apiVersion: 'v1' } })]);
    sink.failNext = 1;
    const r = await post(body);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.json.error).toContain('database is locked');
    expect(sink.alerts.length).toBe(0);
    const retry = await post(body);
    expect(retry.status).toBe(200);
    expect(sink.alerts.length).toBe(1);
    // …and a second delivery of the same batch does not alert twice.
    expect((await post(body)).json.alerts).toBe(0);
  });

  it('other routes keep serving', async () => {
    await post('nonsense');
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/healthz', ca: ca.certPem, servername: 'localhost' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(200);
  });
});
