// GET /metrics on a port of its own (server.metricsPort, --metrics-port), so a NetworkPolicy can
// restrict it, while the webhook port keeps answering /metrics unless told otherwise (contract).
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveServerSettings } from '../../cli/serve.js';
import { request, startTestServer, type TestServer } from './support.js';

describe('dedicated metrics port', () => {
  let ts: TestServer | undefined;
  afterEach(async () => ts?.close());

  it('serves /metrics on the metrics port and, by default, on the webhook port too', async () => {
    ts = await startTestServer({ metricsPort: 0 });
    const ca = fs.readFileSync(ts.certs.caFile);
    const port = ts.handle.metricsPort!;
    expect(port).toBeGreaterThan(0);
    const m = await request(port, ca, { path: '/metrics' });
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.text).toMatch(/^# HELP /m);
    expect((await request(ts.port, ca, { path: '/metrics' })).status).toBe(200);
  });

  it('answers only GET /metrics there: no admission, no health', async () => {
    ts = await startTestServer({ metricsPort: 0 });
    const ca = fs.readFileSync(ts.certs.caFile);
    const port = ts.handle.metricsPort!;
    const validate = await request(port, ca, { method: 'POST', path: '/validate', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(validate.status).toBe(404);
    expect(validate.json()).toEqual({ error: 'no route for POST /validate: this port serves GET /metrics' });
    expect((await request(port, ca, { path: '/readyz' })).status).toBe(404);
    expect((await request(port, ca, { method: 'POST', path: '/metrics', body: '' })).status).toBe(405);
  });

  it('with metricsOnWebhookPort false, the webhook port no longer answers /metrics', async () => {
    ts = await startTestServer({ metricsPort: 0, metricsOnWebhookPort: false });
    const ca = fs.readFileSync(ts.certs.caFile);
    expect((await request(ts.port, ca, { path: '/metrics' })).status).toBe(404);
    expect((await request(ts.handle.metricsPort!, ca, { path: '/metrics' })).status).toBe(200);
    expect((await request(ts.port, ca, { path: '/readyz' })).status).toBe(200);
  });

  it('reports other components on /readyz without turning the webhook unready', async () => {
    let alertsApi = { ready: false, reason: 'token file broken' };
    ts = await startTestServer({ components: () => ({ alertsApi }) });
    const ca = fs.readFileSync(ts.certs.caFile);
    const r = await request(ts.port, ca, { path: '/readyz' });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ status: 'ready', components: { alertsApi: { ready: false, reason: 'token file broken' } } });
    alertsApi = { ready: true } as typeof alertsApi;
    expect((await request(ts.port, ca, { path: '/readyz' })).json().components.alertsApi).toEqual({ ready: true });
  });
});

describe('server.metricsPort and server.metricsOnWebhookPort', () => {
  it('reads them from the config, --metrics-port winning', () => {
    expect(resolveServerSettings({}, {}, {})).toMatchObject({ metricsPort: undefined, metricsOnWebhookPort: true });
    expect(resolveServerSettings({ metricsPort: 9443, metricsOnWebhookPort: false }, {}, {})).toMatchObject({ metricsPort: 9443, metricsOnWebhookPort: false });
    expect(resolveServerSettings({ metricsPort: 9443 }, { metricsPort: 9555 }, {}).metricsPort).toBe(9555);
  });

  it.each([
    [{ metricsPort: 70000 }, /server\.metricsPort: must be an integer from 0 to 65535/],
    [{ metricsOnWebhookPort: 'no' }, /server\.metricsOnWebhookPort: must be true or false/],
    [{ metricsOnWebhookPort: false }, /metricsOnWebhookPort: false needs server\.metricsPort/],
  ])('refuses %j', (server, message) => {
    expect(() => resolveServerSettings(server, {}, {})).toThrow(message);
  });
});
