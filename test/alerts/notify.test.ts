// Alert forwarding (alerts/notify.ts) against real local receivers: an HTTPS server that fails and
// recovers, a TLS syslog listener, a JSON-lines file; deliveries queued in the store's outbox
// survive a restart, are retried with back-off, and carry the alert ID as idempotency key.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backoffMs,
  createSink,
  notifySettingsOf,
  notifyTargets,
  NotifyDispatcher,
  sinkWants,
  slackText,
  syslogMessage,
  type SinkSettings,
} from '../../alerts/notify.js';
import { AlertPipeline } from '../../alerts/pipeline.js';
import { openAlertStore } from '../../alerts/store-factory.js';
import type { AlertStore } from '../../alerts/store.js';
import { ConfigError } from '../../core/errors.js';
import { parseConfig } from '../../config/load.js';
import { LogCapture, makeCerts, type TestCerts } from '../webhook/support.js';
import { makeAlert } from './support.js';

const SECRET = 'a-shared-secret-of-32-characters';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-notify-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function sqliteStore(dir: string): Promise<AlertStore> {
  const store = await openAlertStore(`sqlite:${path.join(dir, 'alerts.db')}`);
  cleanups.push(() => store.close());
  return store;
}

interface Receiver {
  url: string;
  requests: { headers: Record<string, string | string[] | undefined>; body: string }[];
  /** The next answers' status codes (then 200). */
  fail: number[];
}

async function httpsReceiver(certs: TestCerts): Promise<Receiver> {
  const r: Receiver = { url: '', requests: [], fail: [] };
  const server = https.createServer({ cert: fs.readFileSync(certs.certFile), key: fs.readFileSync(certs.keyFile) }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const status = r.fail.shift() ?? 200;
      if (status === 200) r.requests.push({ headers: req.headers, body });
      res.writeHead(status).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `https://localhost:${(server.address() as AddressInfo).port}/hooks/alerts?k=v`;
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return r;
}

function settings(over: Partial<SinkSettings> & Pick<SinkSettings, 'name' | 'type'>): SinkSettings {
  return { filter: { minSeverity: undefined, types: [], namespaces: [] }, timeoutMs: 5000, ...over };
}

describe('notify settings', () => {
  function write(dir: string, name: string, text: string): string {
    fs.writeFileSync(path.join(dir, name), text);
    return name;
  }

  it('reads URLs and keys from files relative to the config, with defaults', () => {
    const dir = tmp();
    write(dir, 'slack-url', 'https://hooks.slack.example/services/T0/B0/XYZ\n');
    write(dir, 'key', SECRET + '\n');
    const s = notifySettingsOf({
      configDir: dir,
      notify: {
        sinks: [
          { name: 'slack', type: 'slack', urlFile: 'slack-url', minSeverity: 'high' },
          { name: 'soc', type: 'webhook', url: 'https://soc.example/hook', secretFile: 'key', types: ['exec-into-pod'] },
          { name: 'siem', type: 'syslog', address: 'siem.example:6514' },
          { name: 'out', type: 'jsonl', file: 'out/alerts.jsonl' },
        ],
      },
    });
    expect(s.maxAgeMs).toBe(86_400_000);
    expect(s.pollIntervalMs).toBe(1000);
    expect(s.sinks.map((x) => [x.name, x.url, x.secret, x.host, x.port, x.tls, x.file])).toEqual([
      ['slack', 'https://hooks.slack.example/services/T0/B0/XYZ', undefined, undefined, undefined, undefined, undefined],
      ['soc', 'https://soc.example/hook', SECRET, undefined, undefined, undefined, undefined],
      ['siem', undefined, undefined, 'siem.example', 6514, true, undefined],
      ['out', undefined, undefined, undefined, undefined, undefined, path.join(dir, 'out/alerts.jsonl')],
    ]);
  });

  it.each([
    [{ name: 'x', type: 'webhook', url: 'http://soc.example/hook', secretFile: 'key' }, /must be https/],
    [{ name: 'x', type: 'webhook', url: 'https://soc.example/hook' }, /needs secretFile/],
    [{ name: 'x', type: 'webhook', url: 'https://soc.example/hook', secretFile: 'short' }, /at least 16 characters/],
    [{ name: 'x', type: 'webhook', url: 'https://soc.example/hook', secretFile: 'missing' }, /secretFile: cannot read .*missing \(ENOENT\)/],
    [{ name: 'x', type: 'slack' }, /needs url or urlFile/],
    [{ name: 'x', type: 'slack', url: 'not a url' }, /url is not an https:\/\/ URL/],
    [{ name: 'x', type: 'syslog', address: 'siem.example' }, /address: must be host:port/],
    [{ name: 'x', type: 'syslog', address: 'siem.example:99999' }, /must be host:port/],
    [{ name: 'X Y', type: 'jsonl' }, /name of lower-case letters/],
    [{ name: 'x', type: 'email' }, /must be one of webhook, slack, syslog, jsonl/],
  ])('refuses %j with a message naming the sink', (sink, message) => {
    const dir = tmp();
    write(dir, 'key', SECRET);
    write(dir, 'short', 'abc');
    expect(() => notifySettingsOf({ configDir: dir, notify: { sinks: [sink] } } as never, 'bulwark.yaml')).toThrow(ConfigError);
    expect(() => notifySettingsOf({ configDir: dir, notify: { sinks: [sink] } } as never, 'bulwark.yaml')).toThrow(message);
  });

  it("takes DESIGN.md's short form `notify: [sink, …]`; unnamed sinks are named by type in list order; an error points at the sink's line", () => {
    const dir = tmp();
    write(dir, 'key', SECRET);
    const file = path.join(dir, 'bulwark.yaml');
    const config = parseConfig(
      `notify: [{type: webhook, url: https://soc.example/x, secretFile: key, minSeverity: medium}, {type: jsonl}, {type: jsonl, file: b.jsonl}]\n`,
      file,
    );
    config.configDir = dir;
    const s = notifySettingsOf(config, file);
    expect(s.sinks.map((x) => [x.name, x.type, x.filter.minSeverity])).toEqual([
      ['webhook', 'webhook', 'medium'],
      ['jsonl', 'jsonl', undefined],
      ['jsonl-2', 'jsonl', undefined],
    ]);
    expect(() => parseConfig('cluster: {name: a}\nnotify:\n  - type: jsonl\n  - type: email\n', 'bulwark.yaml')).toThrow(
      /^bulwark\.yaml:4: notify\.sinks\.1\.type: must be one of webhook, slack, syslog, jsonl, got "email"/,
    );
  });

  it('refuses two sinks of one name', () => {
    expect(() =>
      notifySettingsOf({
        notify: {
          sinks: [
            { name: 'a', type: 'jsonl' },
            { name: 'a', type: 'jsonl', file: 'x' },
          ],
        },
      }),
    ).toThrow(/"a" is used twice/);
  });

  it('never puts the URL or the key in its messages', () => {
    const dir = tmp();
    write(dir, 'url', 'http://hooks.example/SECRET-PATH');
    try {
      notifySettingsOf({ configDir: dir, notify: { sinks: [{ name: 's', type: 'slack', urlFile: 'url' }] } });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('SECRET-PATH');
    }
  });
});

describe('filters and formats', () => {
  it.each([
    [{}, {}, true],
    [{ minSeverity: 'high' }, { severity: 'medium' }, false],
    [{ minSeverity: 'medium' }, { severity: 'high' }, true],
    [{ types: ['exec-into-pod'] }, { type: 'privileged-container' }, false],
    [{ types: ['privileged-container'] }, { type: 'privileged-container' }, true],
    [{ namespaces: ['prod'] }, { namespace: 'default' }, false],
    [{ namespaces: ['default'] }, { namespace: 'default' }, true],
  ] as const)('filter %j on %j → %s', (filter, alert, wanted) => {
    expect(sinkWants({ minSeverity: undefined, types: [], namespaces: [], ...(filter as object) }, makeAlert(alert as never))).toBe(wanted);
  });

  it('a Slack message has the severity, title, type, message, where, who and a console link; < > & escaped', () => {
    const text = slackText(makeAlert({ message: 'container <app> & more', cluster: 'prod-eu' } as never), 'https://bulwark.example/ui/');
    expect(text).toMatch(/^:red_circle: \*HIGH\* Privileged container \(`privileged-container`\)\n/);
    expect(text).toContain('container &lt;app&gt; &amp; more');
    expect(text).toMatch(/\*Where:\* default \/ Pod pod-\d+ {2}\*Who:\* alice {2}\*Source:\* admission {2}\*Cluster:\* prod-eu/);
    expect(text).toMatch(/<https:\/\/bulwark\.example\/ui\/alerts\/[0-9a-f-]+\|Open in Bulwark>$/);
  });

  it('a syslog message is RFC 5424: PRI from the severity, version 1, time, host, app, procid, the alert ID as MSGID, no SD, the alert as JSON', () => {
    const alert = makeAlert({ severity: 'medium' });
    const m = syslogMessage(alert, new Date('2026-12-04T10:00:00.000Z'));
    expect(m).toMatch(new RegExp(`^<36>1 2026-12-04T10:00:00.000Z \\S+ bulwark \\d+ ${alert.id.slice(0, 32)} - \\{`));
    expect(JSON.parse(m.slice(m.indexOf(' - ') + 3))).toEqual(alert);
    expect(syslogMessage(makeAlert({ severity: 'high' })).slice(0, 5)).toBe('<34>1');
  });

  it('backs off 1 s doubling to 5 min, with jitter', () => {
    for (const [attempts, base] of [
      [0, 1000],
      [3, 8000],
      [12, 300_000],
    ] as const) {
      const b = backoffMs(attempts);
      expect(b).toBeGreaterThanOrEqual(base * 0.8);
      expect(b).toBeLessThanOrEqual(base * 1.2);
    }
  });
});

describe('delivery through the outbox', () => {
  it('a webhook that fails and recovers gets each new alert once, signed, with its ID as idempotency key; a merged occurrence is not sent again', async () => {
    const dir = tmp();
    const certs = makeCerts();
    const receiver = await httpsReceiver(certs);
    const store = await sqliteStore(dir);
    const sink = settings({ name: 'soc', type: 'webhook', url: receiver.url, secret: SECRET, ca: fs.readFileSync(certs.caFile) });
    const logs = new LogCapture();
    const pipeline = new AlertPipeline({ store, logger: logs.logger(), notify: notifyTargets({ sinks: [sink], maxAgeMs: 86_400_000, pollIntervalMs: 1000 }) });
    cleanups.push(() => pipeline.close());
    const resource = { group: '', version: 'v1', kind: 'Pod', name: 'web' };
    const first = makeAlert({ resource, firstSeen: new Date().toISOString() });
    await pipeline.record(first);
    await pipeline.record(makeAlert({ resource, firstSeen: new Date().toISOString() })); // merges
    await pipeline.record(makeAlert({ severity: 'low' }));
    let clock = Date.now();
    const dispatcher = new NotifyDispatcher({ store, sinks: [createSink(sink)], logger: logs.logger(), now: () => clock });
    receiver.fail.push(500, 503);
    await dispatcher.round(); // 500: the first fails, the second waits behind it
    expect(receiver.requests).toHaveLength(0);
    await dispatcher.round(); // not due yet
    clock += 10 * 60_000;
    await dispatcher.round(); // 503
    clock += 10 * 60_000;
    await dispatcher.round();
    expect(receiver.requests).toHaveLength(2);
    const got = receiver.requests.map((r) => JSON.parse(r.body) as { id: string });
    expect(got[0]!.id).toBe(first.id);
    for (const r of receiver.requests) {
      expect(r.headers['x-bulwark-signature']).toBe('sha256=' + createHmac('sha256', SECRET).update(r.body).digest('hex'));
      expect(r.headers['idempotency-key']).toBe(JSON.parse(r.body).id);
      expect(r.headers['x-bulwark-delivery']).toBe(JSON.parse(r.body).id);
    }
    expect(await store.outboxStats()).toEqual({});
    // The failures were logged by sink name and status, never with the URL or the key.
    const failures = logs.lines.filter((l) => l.msg === 'alert delivery failed; will retry');
    expect(failures.map((l) => l.error)).toEqual(['HTTP 500', 'HTTP 503']);
    const all = JSON.stringify(logs.lines);
    expect(all).not.toContain('/hooks/alerts');
    expect(all).not.toContain(SECRET);
  });

  it('a receiver that never answers costs one timeout; one that answers without end is read no further than 64 KiB', async () => {
    const certs = makeCerts();
    const opts = { cert: fs.readFileSync(certs.certFile), key: fs.readFileSync(certs.keyFile) };
    let mode: 'hang' | 'flood' = 'hang';
    let sent = 0;
    const server = https.createServer(opts, (req, res) => {
      req.resume();
      if (mode === 'hang') return; // never answers
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (sent < 50 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 50 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const sink = createSink(
      settings({
        name: 'soc',
        type: 'webhook',
        url: `https://localhost:${(server.address() as AddressInfo).port}/`,
        secret: SECRET,
        ca: fs.readFileSync(certs.caFile),
        timeoutMs: 300,
      }),
    );
    const started = Date.now();
    await expect(sink.deliver([makeAlert()])).rejects.toThrow('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
    mode = 'flood';
    await sink.deliver([makeAlert()]);
    // The connection was dropped after the first 64 KiB: the server got nowhere near its 50 MiB.
    expect(sent).toBeLessThan(10 * 1024 * 1024);
  });

  it('a restart loses nothing: deliveries queued before it are sent by the next process', async () => {
    const dir = tmp();
    const file = path.join(dir, 'out.jsonl');
    const sink = settings({ name: 'out', type: 'jsonl', file });
    const before = await openAlertStore(`sqlite:${path.join(dir, 'alerts.db')}`);
    const pipeline = new AlertPipeline({ store: before, logger: new LogCapture().logger(), notify: () => ['out'] });
    const alerts = [makeAlert(), makeAlert(), makeAlert()];
    for (const a of alerts) await pipeline.record(a);
    await pipeline.close();
    await before.close(); // the process ends before any delivery
    const after = await sqliteStore(dir);
    await new NotifyDispatcher({ store: after, sinks: [createSink(sink)], logger: new LogCapture().logger() }).round();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(alerts.map((a) => a.id));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('syslog over TLS: octet-counted RFC 5424 frames reach a listener that was down and came up', async () => {
    const dir = tmp();
    const certs = makeCerts();
    const store = await sqliteStore(dir);
    const received: string[] = [];
    const server = tls.createServer({ cert: fs.readFileSync(certs.certFile), key: fs.readFileSync(certs.keyFile) }, (socket) => {
      let buf = '';
      socket.on('data', (d: Buffer) => (buf += d.toString()));
      socket.on('end', () => {
        // RFC 6587 octet counting: "<length> <message>" repeated.
        while (buf.length > 0) {
          const sp = buf.indexOf(' ');
          const n = Number(buf.slice(0, sp));
          received.push(buf.slice(sp + 1, sp + 1 + n));
          buf = buf.slice(sp + 1 + n);
        }
      });
    });
    // Reserve a port, then close it: the collector is down at first.
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const sink = settings({ name: 'siem', type: 'syslog', host: '127.0.0.1', port, tls: true, ca: fs.readFileSync(certs.caFile) });
    const pipeline = new AlertPipeline({ store, logger: new LogCapture().logger(), notify: () => ['siem'] });
    cleanups.push(() => pipeline.close());
    const alert = makeAlert({ severity: 'medium' });
    await pipeline.record(alert);
    let clock = Date.now();
    const logs = new LogCapture();
    const dispatcher = new NotifyDispatcher({ store, sinks: [createSink(sink)], logger: logs.logger(), now: () => clock });
    await dispatcher.round();
    expect(logs.lines.find((l) => l.msg === 'alert delivery failed; will retry')?.error).toBe('connection failed (ECONNREFUSED)');
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    clock += 60_000;
    await dispatcher.round();
    for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(new RegExp(`^<36>1 \\S+ \\S+ bulwark \\d+ ${alert.id.slice(0, 32)} - `));
    expect(await store.outboxStats()).toEqual({});
  });

  it('a sink that keeps failing does not hold back the others; deliveries past maxAge are given up and counted', async () => {
    const dir = tmp();
    const store = await sqliteStore(dir);
    const file = path.join(dir, 'ok.jsonl');
    const broken = { name: 'broken', deliver: () => Promise.reject(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' })) };
    const pipeline = new AlertPipeline({ store, logger: new LogCapture().logger(), notify: () => ['broken', 'ok'] });
    cleanups.push(() => pipeline.close());
    await pipeline.record(makeAlert());
    let clock = Date.now();
    const logs = new LogCapture();
    const dispatcher = new NotifyDispatcher({
      store,
      sinks: [broken, createSink(settings({ name: 'ok', type: 'jsonl', file }))],
      logger: logs.logger(),
      now: () => clock,
      maxAgeMs: 3_600_000,
    });
    await dispatcher.round();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(Object.keys(await store.outboxStats())).toEqual(['broken']);
    clock += 2 * 3_600_000;
    for (let i = 0; i < 60; i++) await dispatcher.round(); // the expiry runs every 60th round
    expect(await store.outboxStats()).toEqual({});
    expect(logs.lines.find((l) => l.msg === 'gave up alert deliveries older than notify.maxAge or beyond the per-sink bound')).toMatchObject({
      sink: 'broken',
      deliveries: 1,
    });
  });
});
