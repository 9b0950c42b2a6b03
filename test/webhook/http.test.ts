// Bad input never crashes or hangs the server; routes, health, /mutate and extra routes.
import fs from 'node:fs';
import tls from 'node:tls';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../core/json-depth.js';
import { client, cleanSpec, metricValue, privilegedSpec, request, review, startTestServer, withPodSpec, type TestServer } from './support.js';

describe('bad input: a 4xx JSON error that says what is wrong, and the server keeps serving', () => {
  let ts: TestServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    ts = await startTestServer({
      extraRoutes: (app) => {
        // As the audit module mounts POST /audit: its own parser and a larger limit.
        app.post('/audit', express.json({ limit: '12mb' }), (req, res) => {
          res.json({ items: Array.isArray(req.body?.items) ? req.body.items.length : 0 });
        });
      },
    });
    c = client(ts);
  });
  afterAll(() => ts.close());

  const stillServing = async () => {
    const ok = await c.review(review(withPodSpec('Pod', cleanSpec())));
    expect(ok.allowed).toBe(true);
    expect((await c.get('/healthz')).status).toBe(200);
  };
  const expectError = (res: { status: number; headers: Record<string, unknown>; json(): { error: unknown } }, status: number, pattern: RegExp) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json().error).toMatch(pattern);
  };

  for (const route of ['/validate', '/mutate']) {
    describe(route, () => {
      it('non-JSON → 400', async () => {
        expectError(await c.post(route, '{"apiVersion": "admission.k8s.io/v1", '), 400, /not valid JSON/);
        await stillServing();
      });
      it('empty body → 400', async () => {
        expectError(await c.post(route, ''), 400, /empty/);
        await stillServing();
      });
      it('nesting deeper than MAX_JSON_DEPTH → 400 before parsing; a deep string of brackets is fine', async () => {
        const deep = '{"request":' + '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1) + '}';
        expectError(await c.post(route, deep), 400, new RegExp(`more than ${MAX_JSON_DEPTH} levels deep`));
        const object = withPodSpec('Pod', cleanSpec(), { annotations: { brackets: '[{'.repeat(5000) } });
        expect((await c.review(review(object))).allowed).toBe(true);
        await stillServing();
      });
      it('wrong content type → 415', async () => {
        expectError(
          await c.post(route, JSON.stringify(review(null)), { headers: { 'content-type': 'text/plain' } }),
          415,
          /application\/json, got "text\/plain"/,
        );
        expectError(await request(ts.port, fs.readFileSync(ts.certs.caFile), { method: 'POST', path: route, body: '{}' }), 415, /got none/);
        await stillServing();
      });
      it('application/json with a charset is fine', async () => {
        const doc = review(withPodSpec('Pod', cleanSpec()));
        const res = await c.post(route, doc, { headers: { 'content-type': 'application/json; charset=utf-8' } });
        expect(res.status).toBe(200);
      });
      it('over the 6 MiB default limit → 413 (declared length)', async () => {
        const big = JSON.stringify({ ...review(withPodSpec('Pod', cleanSpec())), padding: 'x'.repeat(6 * 1024 * 1024) });
        expectError(await c.post(route, big), 413, /over the limit of 6 MiB/);
        await stillServing();
      });
      it('over the limit while streaming (chunked) → 413', async () => {
        const big = 'x'.repeat(7 * 1024 * 1024);
        expectError(await c.post(route, big, { headers: { 'transfer-encoding': 'chunked' } }), 413, /over the limit/);
        await stillServing();
      });
      it.each([
        ['a JSON array', [], /expected an AdmissionReview object/],
        ['another kind', { apiVersion: 'v1', kind: 'Pod' }, /expected kind AdmissionReview/],
        ['v1beta1', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }, /expected apiVersion admission.k8s.io\/v1/],
        ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request must be an object/],
        ['no uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE' } }, /request.uid must be a non-empty string/],
        [
          'a bad operation',
          { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'PATCH' } },
          /request.operation must be one of/,
        ],
      ])('%s → 400', async (_what, body, pattern) => {
        expectError(await c.post(route, body), 400, pattern);
        await stillServing();
      });
      it('GET → 405 with Allow', async () => {
        const res = await c.get(route);
        expectError(res, 405, /use POST/);
        expect(res.headers.allow).toBe('POST');
      });
    });
  }

  it('odd but valid reviews are answered, not crashed on', async () => {
    const odd = [
      review(null),
      review({ kind: 'Pod' } as never),
      review(withPodSpec('Pod', { containers: 'nope', initContainers: [null, 7, { securityContext: 'x' }] })),
      review(withPodSpec('Deployment', null as never)),
      { ...review(withPodSpec('Pod', cleanSpec())), request: { ...review(withPodSpec('Pod', privilegedSpec())).request, userInfo: null, kind: undefined } },
    ];
    for (const doc of odd) {
      const res = await c.post('/validate', doc);
      expect(res.status).toBe(200);
      expect(res.json().response.uid).toBe((doc as { request: { uid: string } }).request.uid);
    }
  });

  it("the API server's ?timeout= query is accepted on every admission route", async () => {
    const doc = review(withPodSpec('Pod', privilegedSpec()));
    expect((await c.review(doc, '/validate?timeout=10s')).allowed).toBe(false);
    expect((await c.review(doc, '/validate/audit?timeout=10s')).allowed).toBe(true);
    expect((await c.review(doc, '/mutate?timeout=10s')).allowed).toBe(true);
  });

  it('unknown routes → 404 JSON', async () => {
    expectError(await c.get('/nope'), 404, /no route for GET \/nope/);
    expectError(await c.post('/validate/extra/deep', {}), 404, /no route/);
  });

  it('extra routes keep their own body limit (the 6 MiB limit is not global)', async () => {
    const items = Array.from({ length: 8 }, () => ({ blob: 'z'.repeat(1024 * 1024) }));
    const res = await c.post('/audit', { items });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ items: 8 });
    // Their parser's errors come back as JSON too.
    expectError(await c.post('/audit', '{bad'), 400, /./);
  });

  it('counts each kind of bad input', async () => {
    const m = await c.get('/metrics');
    for (const reason of ['bad-request', 'unsupported-media-type', 'payload-too-large', 'not-admission-review']) {
      expect(metricValue(m.text, 'bulwark_admission_errors_total', { reason })).toBeGreaterThan(0);
    }
  });
});

describe('a failure outside the checks (a bug): 500, counted and logged, and the server keeps serving', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({
      // The namespace dry run (the background scanner's cache) throwing for one namespace.
      namespaceDryRun: (ns) => {
        if (ns === 'broken') throw new Error('scanner cache corrupted');
        return undefined;
      },
    });
  });
  afterAll(() => ts.close());

  it('answers 500 with a JSON error, counts internal, logs it; the next review is judged', async () => {
    const c = client(ts);
    const ns = (labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'broken', labels } });
    const res = await c.post('/validate', review(ns({ 'bulwark.io/mode': 'enforce' }), { operation: 'UPDATE', name: 'broken', oldObject: ns({}) }));
    expect(res.status).toBe(500);
    expect(res.json()).toEqual({ error: 'internal error' });
    expect(ts.logs.lines.some((l) => l.msg === 'admission request failed' && /scanner cache corrupted/.test(JSON.stringify(l.err)))).toBe(true);
    expect(metricValue((await c.get('/metrics')).text, 'bulwark_admission_errors_total', { reason: 'internal' })).toBe(1);
    expect((await c.review(review(withPodSpec('Pod', cleanSpec())))).allowed).toBe(true);
  });
});

describe('health and slow clients', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({ headersTimeoutMs: 500, requestTimeoutMs: 1000 });
  });
  afterAll(() => ts.close());

  it('healthz and readyz answer 200 once serving', async () => {
    const c = client(ts);
    expect((await c.get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await c.get('/readyz')).json()).toEqual({ status: 'ready' });
  });

  it('a client that never finishes its headers (slow loris) is cut off', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: ts.port, servername: 'localhost', ca: fs.readFileSync(ts.certs.caFile) });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write('POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    const started = Date.now();
    const response = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(response === '' || /^HTTP\/1\.1 408/.test(response)).toBe(true);
  });

  it('a client that never finishes its body is cut off', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: ts.port, servername: 'localhost', ca: fs.readFileSync(ts.certs.caFile) });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write('POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":');
    const started = Date.now();
    await new Promise<void>((resolve) => {
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
      socket.resume();
    });
    expect(Date.now() - started).toBeLessThan(4000);
    expect((await client(ts).get('/healthz')).status).toBe(200);
  });
});

describe('POST /mutate', () => {
  let ts: TestServer;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    ts = await startTestServer({ config: { exemptions: { namespaces: ['trusted'], usernames: [], groups: [], images: [] } } });
    c = client(ts);
  });
  afterAll(() => ts.close());

  it('answers allowed with a base64 JSONPatch when there is something to fill in', async () => {
    const doc = review(withPodSpec('Pod', cleanSpec()));
    const res = await c.review(doc, '/mutate');
    expect(res.uid).toBe(doc.request.uid);
    expect(res.allowed).toBe(true);
    expect(res.patchType).toBe('JSONPatch');
    const patch = JSON.parse(Buffer.from(res.patch!, 'base64').toString('utf8')) as { op: string; path: string }[];
    expect(Array.isArray(patch) && patch.length > 0).toBe(true);
    for (const op of patch) expect(op.op).toBe('add');
  });

  it('no patch for exempt namespaces, DELETE, or kinds it does not patch', async () => {
    const exempt = review(withPodSpec('Pod', cleanSpec(), { namespace: 'trusted' }), { namespace: 'trusted' });
    expect(await c.review(exempt, '/mutate')).toEqual({ uid: exempt.request.uid, allowed: true });
    const del = review(null, { operation: 'DELETE', oldObject: withPodSpec('Pod', cleanSpec()) as never });
    expect(await c.review(del, '/mutate')).toEqual({ uid: del.request.uid, allowed: true });
    const cm = review({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'team-a' } });
    expect(await c.review(cm, '/mutate')).toEqual({ uid: cm.request.uid, allowed: true });
    const m = await c.get('/metrics');
    expect(metricValue(m.text, 'bulwark_mutation_requests_total', { result: 'exempt' })).toBe(1);
    expect(metricValue(m.text, 'bulwark_mutation_requests_total', { result: 'patched' })).toBeGreaterThan(0);
  });
});

describe('createWebhookApp: the express app on its own', () => {
  it('serves the admission routes and health when mounted on any server', async () => {
    const https = await import('node:https');
    const { createWebhookApp } = await import('../../webhook/server.js');
    const { makeCerts, compiledWith, LogCapture } = await import('./support.js');
    const certs = makeCerts();
    const web = createWebhookApp({ compiled: compiledWith(), logger: new LogCapture().logger() });
    web.health.ready = true;
    const server = https.createServer({ cert: fs.readFileSync(certs.certFile), key: fs.readFileSync(certs.keyFile) }, web.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const ca = fs.readFileSync(certs.caFile);
    const doc = review(withPodSpec('Pod', privilegedSpec()));
    const res = await request(port, ca, {
      method: 'POST',
      path: '/validate?timeout=10s',
      body: JSON.stringify(doc),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.json().response).toMatchObject({ uid: doc.request.uid, allowed: false });
    expect((await request(port, ca, { path: '/readyz' })).status).toBe(200);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
