// Shutdown and alert delivery: draining finishes in-flight reviews, readyz turns 503, alerts in
// flight are waited for, a failing sink is retried and never silently loses an alert; and the
// real `bulwark serve` process exits 0 on SIGTERM after answering what it had accepted.
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, AlertSink } from '../../alerts/model.js';
import {
  client,
  cleanSpec,
  listeningPort,
  makeCerts,
  metricValue,
  privilegedSpec,
  request,
  review,
  serveProcess,
  sleep,
  startTestServer,
  waitFor,
  withPodSpec,
} from './support.js';

/** Opens a TLS connection and sends a POST /validate whose body is held back until `finish()`. */
async function partialReview(port: number, ca: Buffer, body: string) {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const half = Math.floor(body.length / 2);
  socket.write(
    `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
  );
  return {
    finish: async () => {
      socket.write(body.slice(half));
      await waitFor(() => /\r\n\r\n\{.*\}\}$/s.test(text), 5000, 'the response');
      return text;
    },
    closed,
  };
}

describe('close(): draining in process', () => {
  it('readyz turns 503, in-flight reviews finish, then new connections are refused', async () => {
    const ts = await startTestServer({ shutdownDelayMs: 300 });
    const ca = fs.readFileSync(ts.certs.caFile);
    const doc = review(withPodSpec('Pod', privilegedSpec()));
    const inFlight = await partialReview(ts.port, ca, JSON.stringify(doc));
    const closing = ts.handle.close(5000);
    const ready = await request(ts.port, ca, { path: '/readyz' });
    expect(ready.status).toBe(503);
    expect(ready.json()).toEqual({ status: 'draining' });
    expect(ready.headers.connection).toBe('close');
    expect((await request(ts.port, ca, { path: '/healthz' })).status).toBe(200);
    await sleep(400); // past the delay: the listener is closed, the in-flight request is not
    const text = await inFlight.finish();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain(`"uid":"${doc.request.uid}"`);
    expect(text).toContain('"allowed":false');
    expect(await closing).toEqual({ forced: false });
    await inFlight.closed;
    await expect(request(ts.port, ca, { path: '/healthz' })).rejects.toThrow(/ECONNREFUSED/);
    expect(ts.sink.alerts).toHaveLength(1); // recorded before close() resolved
  });

  it('after the grace period the remaining connections are closed', async () => {
    const ts = await startTestServer();
    const ca = fs.readFileSync(ts.certs.caFile);
    const stuck = await partialReview(ts.port, ca, JSON.stringify(review(withPodSpec('Pod', cleanSpec()))));
    const started = Date.now();
    expect(await ts.handle.close(300)).toEqual({ forced: true });
    expect(Date.now() - started).toBeLessThan(2000);
    await stuck.closed;
  });
});

describe('alert delivery', () => {
  it('the response does not wait for a slow sink, and close() waits for the alert', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const recorded: Alert[] = [];
    const slow: AlertSink = {
      async record(alert) {
        await gate;
        recorded.push(alert);
      },
    };
    const ts = await startTestServer({ sinks: [slow] });
    const started = Date.now();
    const res = await client(ts).review(review(withPodSpec('Pod', privilegedSpec())));
    expect(res.allowed).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(recorded).toHaveLength(0);
    const closing = ts.handle.close(5000);
    await sleep(100);
    expect(recorded).toHaveLength(0);
    release();
    await closing;
    expect(recorded).toHaveLength(1);
  });

  it('a sink that rejects is not retried here (the alert pipeline is the one retry layer): the whole alert is logged and counted', async () => {
    let calls = 0;
    const flaky: AlertSink = {
      async record() {
        calls++;
        throw new Error('store unavailable');
      },
    };
    const ts = await startTestServer({ sinks: [flaky] });
    const doc = review(withPodSpec('Pod', privilegedSpec()));
    await client(ts).review(doc);
    await waitFor(() => ts.logs.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('could not record alert')), 3000, 'the lost-alert log line');
    expect(calls).toBe(1);
    const line = ts.logs.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('could not record alert'))!;
    expect(line.uid).toBe(doc.request.uid);
    expect((line.alert as Alert).type).toBe('privileged-container');
    const m = await client(ts).get('/metrics');
    expect(metricValue(m.text, 'bulwark_admission_errors_total', { reason: 'alert-sink' })).toBe(1);
    await ts.close();
  });
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('`bulwark serve` as a process', () => {
  let built = false;
  beforeAll(() => {
    // Compile the tree (others may have type errors elsewhere; tsc still emits).
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore', timeout: 180_000 });
    built = fs.existsSync(path.join(root, 'dist/cli/serve.js')) && fs.existsSync(path.join(root, 'dist/webhook/server.js'));
  }, 200_000);

  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  const serve = (args: string[]) => serveProcess(args, children);

  it('serves, and on SIGTERM answers the in-flight review and exits 0', async (ctx) => {
    if (!built) ctx.skip();
    const certs = makeCerts();
    const proc = serve(['--port', '0', '--address', '127.0.0.1', '--no-kube', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile]);
    const port = await listeningPort(proc);
    const ca = fs.readFileSync(certs.caFile);
    expect((await request(port, ca, { path: '/readyz' })).status).toBe(200);
    const doc = review(withPodSpec('Pod', privilegedSpec()));
    const inFlight = await partialReview(port, ca, JSON.stringify(doc));
    proc.child.kill('SIGTERM');
    await waitFor(() => proc.stderr().includes('SIGTERM: draining'), 5000, 'the draining line');
    const text = await inFlight.finish();
    expect(text).toContain(`"uid":"${doc.request.uid}"`);
    expect(await proc.exited).toBe(0);
    expect(proc.stderr()).toContain('--no-kube: namespace labels (bulwark.io/mode) are not read; config alone decides');
    expect(proc.stderr()).not.toContain('"level":50');
  }, 30_000);

  it('judges a review over 256 KiB on its review worker thread (the compiled worker is found and started)', async (ctx) => {
    if (!built) ctx.skip();
    const certs = makeCerts();
    const proc = serve(['--port', '0', '--address', '127.0.0.1', '--no-kube', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile]);
    const port = await listeningPort(proc);
    const ca = fs.readFileSync(certs.caFile);
    const base = (privilegedSpec().containers as Record<string, unknown>[])[0]!;
    const doc = review(withPodSpec('Pod', { containers: Array.from({ length: 4000 }, (_, i) => ({ ...base, name: `c${i}` })) }));
    const body = JSON.stringify(doc);
    expect(body.length).toBeGreaterThan(256 * 1024);
    const res = await request(port, ca, { method: 'POST', path: '/validate', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(res.json().response).toMatchObject({ uid: doc.request.uid, allowed: false });
    const metrics = (await request(port, ca, { path: '/metrics' })).text;
    expect(metricValue(metrics, 'bulwark_review_worker_reviews_total', { result: 'judged' })).toBe(1);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.stderr()).not.toContain('"level":50');
  }, 30_000);

  it('reloads the config file when it changes (and on SIGHUP): a valid one is used at once, an invalid one is refused and the running one stays', async (ctx) => {
    if (!built) ctx.skip();
    const certs = makeCerts();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-reload-'));
    const file = path.join(dir, 'bulwark.yaml');
    const write = (text: string) => fs.writeFileSync(file, `store: {url: 'sqlite:${path.join(dir, 'a.db')}'}\n${text}`);
    write('defaultAction: warn\nserver: {configPollInterval: 200ms}\n');
    const proc = serve(['--config', file, '--port', '0', '--address', '127.0.0.1', '--no-kube', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile]);
    const port = await listeningPort(proc);
    const ca = fs.readFileSync(certs.caFile);
    const allowed = async () => {
      const res = await request(port, ca, {
        method: 'POST',
        path: '/validate',
        body: JSON.stringify(review(withPodSpec('Pod', privilegedSpec()))),
        headers: { 'content-type': 'application/json' },
      });
      return res.json().response.allowed as boolean;
    };
    expect(await allowed()).toBe(true);
    // Enforce: the next reviews are denied, without a restart.
    write('defaultAction: enforce\nserver: {configPollInterval: 200ms}\n');
    await waitFor(() => proc.stderr().includes('config reloaded'), 5000, 'the reload line');
    expect(await allowed()).toBe(false);
    // An invalid file: one error line naming the key, and enforcement stays.
    write('defaultAction: sometimes\nserver: {configPollInterval: 200ms}\n');
    await waitFor(() => proc.stderr().includes('config reload failed'), 5000, 'the failure line');
    expect(proc.stderr()).toMatch(/config reload failed, the running config stays: .*defaultAction/);
    expect(await allowed()).toBe(false);
    // A change to a section read only at start is applied where it can be and named for a restart; SIGHUP reloads at once.
    write('defaultAction: warn\nserver: {configPollInterval: 1h, bodyLimit: 1Mi}\n');
    proc.child.kill('SIGHUP');
    await waitFor(() => /take effect after a restart/.test(proc.stderr()), 5000, 'the restart warning');
    expect(proc.stderr()).toMatch(/config reload: changes to server take effect after a restart/);
    expect(await allowed()).toBe(true);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it.each([
    ['a missing config file', ['--config', '/nonexistent/bulwark.yaml'], /cannot read the configuration/],
    ['a certificate without its key', ['--tls-cert', '/tmp/x.crt'], /go together/],
    ['a bad port', ['--port', 'eighty'], /must be an integer/],
  ])(
    'exits 2 on %s',
    async (_what, args, pattern) => {
      if (!built) return;
      const proc = serve(['--no-kube', ...args]);
      expect(await proc.exited).toBe(2);
      expect(proc.stderr()).toMatch(pattern);
    },
    15_000,
  );

  it('binds loopback by default (the quick start), and --log-format pretty writes lines for people', async (ctx) => {
    if (!built) ctx.skip();
    const certs = makeCerts();
    const proc = serve(['--port', '0', '--no-kube', '--log-format', 'pretty', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile]);
    await waitFor(() => /listening on https:/.test(proc.stderr()), 10_000, 'the listening line');
    const line = proc
      .stderr()
      .split('\n')
      .find((l) => l.includes('listening on'))!;
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening on https:\/\/127\.0\.0\.1:\d+ {2}port=\d+ address=127\.0\.0\.1 /);
    expect(proc.stderr()).not.toContain('{"level"');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }, 30_000);

  it('api.auth: kubernetes without any cluster is an error naming the key and the file', async () => {
    if (!built) return;
    const certs = makeCerts();
    const dir = certs.dir;
    const file = path.join(dir, 'bulwark.yaml');
    fs.writeFileSync(file, `api:\n  auth: kubernetes\nstore:\n  url: sqlite:${path.join(dir, 'a.db')}\n`);
    const proc = serve(['--no-kube', '--port', '0', '--config', file, '--tls-cert', certs.certFile, '--tls-key', certs.keyFile]);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain(`bulwark: ${file}: api.auth: kubernetes needs a cluster to ask`);
  }, 15_000);

  it('audit.webhookTokenFile that cannot be read, or holds a weak token, stops the start naming the key and the file', async () => {
    if (!built) return;
    const certs = makeCerts();
    const dir = certs.dir;
    const tls = ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile];
    const file = path.join(dir, 'bulwark.yaml');
    fs.writeFileSync(file, `audit:\n  webhookTokenFile: missing-token\nstore:\n  url: sqlite:${path.join(dir, 'a.db')}\n`);
    const proc = serve(['--no-kube', '--port', '0', '--config', file, ...tls]);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain(`bulwark: ${file}: audit.webhookTokenFile: cannot read ${path.join(dir, 'missing-token')} (ENOENT)`);
    fs.writeFileSync(path.join(dir, 'weak'), 'short\n');
    fs.writeFileSync(file, `audit:\n  webhookTokenFile: weak\nstore:\n  url: sqlite:${path.join(dir, 'a.db')}\n`);
    const weak = serve(['--no-kube', '--port', '0', '--config', file, ...tls]);
    expect(await weak.exited).toBe(2);
    expect(weak.stderr()).toContain('must hold one token of at least 16 characters');
  }, 20_000);

  it('exits 2 on unknown or malformed server.* config keys', async () => {
    if (!built) return;
    const dir = makeCerts().dir;
    const file = path.join(dir, 'bulwark.yaml');
    fs.writeFileSync(file, 'server:\n  port: 99999\n  tlscert: x\n');
    const proc = serve(['--no-kube', '--config', file]);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toMatch(/server\.port: must be an integer/);
    expect(proc.stderr()).toMatch(/server\.tlscert: unknown key/);
  }, 15_000);
});
