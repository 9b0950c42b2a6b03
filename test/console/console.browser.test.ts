// The web console in a real browser (Debian's chromium, driven by playwright-core, which never
// downloads one) against a real `bulwark serve` with a seeded SQLite store: sign-in as reader and
// admin, filters kept in the URL and the back button, sorting, pages, new alerts without a reload,
// the alert detail, triage as admin, refusal as reader, trends and posture — with no console error
// and no request that leaves Bulwark's origin. Screenshots of each page at 1280×800 go to
// $BULWARK_TEST_OUTPUT/console/ (default: bulwark-test-output/console/ in the system's temporary
// folder, so that the run leaves the working tree as it found it).
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAlertStore } from '../../alerts/store-factory.js';
import { newAlert, type Alert } from '../../alerts/model.js';
import type { AlertStore } from '../../alerts/store.js';
import { seedAlerts } from '../support/alerts-seed.js';
import { makeCerts, serveProcess, waitFor } from '../webhook/support.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.BULWARK_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.join(process.env.BULWARK_TEST_OUTPUT ?? path.join(os.tmpdir(), 'bulwark-test-output'), 'console');
const ADMIN = 'admin-token-7f3a9c';
const READER = 'reader-token-51be02';

const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.CI)
  throw new Error(`the console's browser test needs Chromium at ${CHROMIUM} (apt-get install chromium); CI must not skip it`);

function marked(title: string, overrides: Partial<Alert> = {}): Alert {
  const now = new Date().toISOString();
  return newAlert({
    type: 'crypto-miner-image',
    title,
    severity: 'high',
    source: 'admission',
    firstSeen: now,
    namespace: 'payments',
    resource: { group: '', version: 'v1', kind: 'Pod', name: 'miner-7d9f' },
    user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
    sourceIPs: ['203.0.113.7'],
    userAgent: 'kubectl/v1.30.2',
    auditIDs: ['5c1e2f40-0d9b-4c2e-9a11-3f1d2b7e8a90'],
    message: 'container "worker" runs image xmrig/xmrig:6.21, a crypto-miner',
    evidence: { container: 'worker', image: 'xmrig/xmrig:6.21', nested: { args: ['--donate-level=1'] } },
    tactics: ['Impact'],
    remediation: 'Delete the pod and find how it was created.',
    ...overrides,
  });
}

describe.skipIf(!haveChromium)('the console in a real browser', () => {
  const children: ChildProcess[] = [];
  let browser: Browser;
  let store: AlertStore;
  let base: string;
  let miner: Alert;
  let apiserver: StandIn;
  /** Alerts in the store once the background scan has raised its own (the seeded ones and those). */
  let total: number;
  const problems: string[] = [];

  beforeAll(async () => {
    // The console's scripts are the build's (dist/ui), as npm ci && npm start serves them.
    for (const project of ['tsconfig.json', 'ui/tsconfig.json']) {
      const r = spawnSync('npx', ['tsc', '-p', project], { cwd: root, encoding: 'utf8', timeout: 240_000 });
      if (r.status !== 0) throw new Error(`tsc -p ${project} failed: ${r.stdout}${r.stderr}`);
    }
    fs.mkdirSync(SHOTS, { recursive: true });
    console.info(`console screenshots: ${SHOTS}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-console-'));
    const db = path.join(dir, 'alerts.db');
    store = await openAlertStore(`sqlite:${db}`);
    for (const a of seedAlerts(240, { seed: 7 })) await store.upsert(a, 1);
    miner = await store.upsert(marked('Crypto-miner image'), 1);
    fs.writeFileSync(path.join(dir, 'tokens.csv'), `${ADMIN},ada,u1,"security-admins"\n${READER},rita,u2,"security-readers"\n`);
    // A cluster for the background scan (the Posture page): the kube-apiserver stand-in, holding a
    // privileged Deployment, a hostPath DaemonSet and a clean Deployment in "shop".
    apiserver = await startApiServerStandIn();
    fs.writeFileSync(path.join(dir, 'kubeconfig'), apiserver.kubeconfig());
    apiserver.objects.set('/api/v1/namespaces/shop', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', uid: 'ns-shop' } });
    const workload = (kind: string, name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'apps/v1',
      kind,
      metadata: { name, namespace: 'shop' },
      spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec } },
    });
    apiserver.addObject(
      workload('Deployment', 'payments-api', { containers: [{ name: 'app', image: 'registry.example.com/pay:1', securityContext: { privileged: true } }] }),
    );
    apiserver.addObject(
      workload('DaemonSet', 'node-agent', {
        containers: [{ name: 'agent', image: 'registry.example.com/agent:1', volumeMounts: [{ name: 'root', mountPath: '/host' }] }],
        volumes: [{ name: 'root', hostPath: { path: '/' } }],
      }),
    );
    apiserver.addObject(workload('Deployment', 'web', { containers: [{ name: 'app', image: 'registry.example.com/web:1' }] }));
    const certs = makeCerts();
    const config = path.join(dir, 'bulwark.yaml');
    fs.writeFileSync(
      config,
      [
        `store: {url: 'sqlite:${db}'}`,
        'api:',
        '  port: 0',
        `  tokenFile: ${path.join(dir, 'tokens.csv')}`,
        '  roles: {admin: [security-admins], reader: [security-readers]}',
        'backgroundScan: {enabled: true, debounce: 1s}',
      ].join('\n'),
    );
    const proc = serveProcess(
      [
        '--config',
        config,
        '--port',
        '0',
        '--address',
        '127.0.0.1',
        '--kubeconfig',
        path.join(dir, 'kubeconfig'),
        '--tls-cert',
        certs.certFile,
        '--tls-key',
        certs.keyFile,
      ],
      children,
    );
    await waitFor(() => /alerts api listening/.test(proc.stderr()), 20_000, 'the alerts API');
    const line = proc
      .stderr()
      .split('\n')
      .find((l) => l.includes('alerts api listening'))!;
    base = (JSON.parse(line) as { url: string }).url.replace('localhost', '127.0.0.1');
    // The scan's alerts (the privileged Deployment, the hostPath DaemonSet) join the seeded ones.
    await waitFor(async () => (await store.summary({ source: ['background'] })).total >= 2, 30_000, 'the background alerts');
    total = (await store.summary({})).total;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await apiserver?.close();
    await store?.close();
  });

  /** A fresh browser profile at 1280×800 that records console errors and any request leaving Bulwark's origin. */
  async function open(options: { colorScheme?: 'light' | 'dark'; width?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: options.width ?? 1280, height: 800 },
      colorScheme: options.colorScheme ?? 'light',
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (new URL(r.url()).origin !== base) problems.push(`external request: ${r.url()}`);
    });
    return { context, page };
  }

  async function signIn(page: Page, token: string, at = '/ui/alerts'): Promise<void> {
    await page.goto(base + at);
    await page.locator('#token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('header.top .user').waitFor();
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const rows = (page: Page) => page.locator('table.alerts tbody tr');

  /** A request with the browser's session cookie but from outside the page (what a script could forge). */
  function withCookie(context: BrowserContext, method: string, pathName: string, headers: Record<string, string>, body?: string) {
    return context.cookies(base).then(
      (cookies) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
          const req = https.request(
            base + pathName,
            { method, rejectUnauthorized: false, headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}), ...headers } },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
            },
          );
          req.on('error', reject);
          req.end(body);
        }),
    );
  }

  it('a reader signs in, filters, sorts, pages, opens an alert, sees new alerts arrive, and cannot change one', async () => {
    const { context, page } = await open();
    await page.goto(base + '/ui/');
    await page.locator('#token').waitFor();
    await shot(page, 'signin');
    // Keyboard first: the token field has the focus.
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('token');

    await page.locator('#token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#signin-error').textContent()).toContain('not valid');
    problems.splice(0); // the refused sign-in's 401 is the one expected console line

    await signIn(page, READER);
    expect(await page.locator('header .role').textContent()).toBe('reader');
    await rows(page).first().waitFor();
    expect(await rows(page).count()).toBe(50);
    // On a page load the skip link is the first Tab stop, and it jumps to the content.
    await page.goto(base + '/ui/alerts');
    await rows(page).first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('main');
    await expect.poll(() => page.locator('.summary strong').textContent()).toBe(`${total} alerts`);
    await shot(page, 'alerts');

    // The token lives only in an HttpOnly, Secure, SameSite=Strict cookie: not in the page's reach.
    const cookies = await context.cookies(base);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: '__Host-bulwark-session', httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate('Object.keys(localStorage).length + Object.keys(sessionStorage).length')).toBe(0);
    expect(page.url()).not.toContain(READER);

    // Filters and search go to the URL; the back button returns to the unfiltered list.
    await page.locator('#f-q').fill('XMRIG');
    await page.locator('#f-severity').selectOption('high');
    await page.locator('#f-q').press('Enter');
    await expect.poll(() => new URL(page.url()).search).toBe('?q=XMRIG&severity=high');
    await expect.poll(() => rows(page).count()).toBe(1);
    expect(await page.locator('.summary strong').textContent()).toBe('1 alert');
    await page.goBack();
    await expect.poll(() => rows(page).count()).toBe(50);
    expect(new URL(page.url()).search).toBe('');
    await page.goForward();
    await expect.poll(() => rows(page).count()).toBe(1);
    expect(await page.locator('#f-q').inputValue()).toBe('XMRIG');
    // A shared link opens the same view.
    const shared = await context.newPage();
    await shared.goto(base + '/ui/alerts?namespace=payments&status=active');
    await shared.locator('table.alerts tbody tr').first().waitFor();
    const namespaces = await shared.locator('table.alerts tbody tr td:nth-child(4)').allTextContents();
    expect(new Set(namespaces)).toEqual(new Set(['payments']));
    await shared.close();

    // Sorting by count, largest first; then the next page continues below it.
    await page.goto(base + '/ui/alerts');
    await page.getByRole('link', { name: 'Count', exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('sort')).toBe('count');
    await rows(page).first().waitFor();
    const counts = (await page.locator('table.alerts tbody tr td:nth-child(7)').allTextContents()).map((t) => Number(t.replace(/\D/g, '')));
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toContain('Count');
    const firstPage = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    await page.getByRole('link', { name: 'Next page →' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.has('continue')).toBe(true);
    await rows(page).first().waitFor();
    const secondPage = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(secondPage).toHaveLength(50);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    const nextCounts = (await page.locator('table.alerts tbody tr td:nth-child(7)').allTextContents()).map((t) => Number(t.replace(/\D/g, '')));
    expect(nextCounts[0]).toBeLessThanOrEqual(counts[counts.length - 1]!);

    // New alerts appear on the first page without a reload.
    await page.goto(base + '/ui/alerts');
    await rows(page).first().waitFor();
    const fresh = await store.upsert(marked('Freshly raised alert', { resource: { group: '', version: 'v1', kind: 'Pod', name: 'fresh-1' } }), 1);
    await page.locator(`tr[data-id="${fresh.id}"]`).waitFor({ timeout: 25_000 });
    expect(await page.locator(`tr[data-id="${fresh.id}"]`).getAttribute('class')).toBe('fresh');
    expect(await page.locator('.summary strong').textContent()).toBe(`${total + 1} alerts`);

    // The detail: message, evidence (collapsible), IDs, IPs, agent; no triage controls for a reader.
    await page.goto(base + '/ui/alerts?q=xmrig');
    await page.getByRole('link', { name: 'Crypto-miner image' }).click();
    await page.locator('#evidence').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/ui/alerts/${miner.id}`);
    const text = await page.locator('main').textContent();
    for (const expected of [miner.message, '203.0.113.7', 'kubectl/v1.30.2', miner.auditIDs[0]!, 'Impact', miner.remediation, 'mallory@example.com'])
      expect(text).toContain(expected);
    expect(await page.locator('details.json summary').first().textContent()).toContain('3 keys');
    expect(await page.locator('form.status-form').count()).toBe(0);
    await shot(page, 'detail-reader');

    // The server refuses a reader's change whatever the page sends.
    const refused = await withCookie(
      context,
      'POST',
      `/api/v1/alerts/${miner.id}/status`,
      { 'x-bulwark-console': '1' },
      JSON.stringify({ status: 'dismissed', reason: 'x' }),
    );
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toContain('may not update alerts');
    expect((await store.get(miner.id))!.status).toBe('active');

    // Trends and posture.
    await page.getByRole('link', { name: 'Trends' }).click();
    await page.locator('svg.chart rect.bar').first().waitFor();
    expect(await page.locator('svg.chart rect.bar-high').count()).toBeGreaterThan(5);
    expect(await page.locator('#top-types').textContent()).toBe('Top alert types');
    await shot(page, 'trends');
    // Posture: the background scan's findings by namespace and policy, and what enforce would deny.
    await page.getByRole('link', { name: 'Posture' }).click();
    const shop = page.locator('#by-ns ~ div table tbody tr', { hasText: 'shop' });
    await shop.waitFor({ timeout: 20_000 });
    expect(Number(await shop.locator('td:nth-child(3)').textContent())).toBeGreaterThanOrEqual(2);
    expect(Number(await shop.locator('td:nth-child(6)').textContent())).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#by-policy ~ div table').textContent()).toContain('privileged-container');
    await shot(page, 'posture');
    await shop.getByRole('link', { name: 'shop' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('namespace')).toBe('shop');
    const failing = await page.locator('#failing ~ div table tbody').textContent();
    expect(failing).toContain('Deployment/payments-api');
    expect(failing).toContain('DaemonSet/node-agent');
    expect(failing).not.toContain('Deployment/web');
    const denied = await page.locator('#enforce ~ div table tbody').textContent();
    expect(denied).toContain('Deployment/payments-api');

    // Sign-out clears the cookie; the console asks for a token again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').waitFor();
    expect(await context.cookies(base)).toEqual([]);
    await page.goto(base + '/ui/alerts');
    await page.locator('#token').waitFor();
    await context.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('an admin triages an alert with comments kept in its history; changes need the console header', async () => {
    const { context, page } = await open();
    await signIn(page, ADMIN, `/ui/alerts/${miner.id}`);
    expect(await page.locator('header .role').textContent()).toBe('admin');
    await page.locator('form.status-form').waitFor();
    await page.locator('#to').selectOption('in-progress');
    await page.locator('#reason').fill('looking at the payments namespace');
    await page.getByRole('button', { name: 'Change status' }).click();
    await expect.poll(() => page.locator('.badges .status').textContent()).toBe('in-progress');
    // Dismissing needs a comment (the page says so before the server would).
    await page.locator('#to').selectOption('dismissed');
    await page.getByRole('button', { name: 'Change status' }).click();
    await expect.poll(() => page.locator('form.status-form .error').textContent()).toContain('required');
    await page.locator('#reason').fill('test miner in a sandbox, accepted');
    await page.getByRole('button', { name: 'Change status' }).click();
    await expect.poll(() => page.locator('.badges .status').textContent()).toBe('dismissed');
    expect(await page.locator('#history ~ div table tbody tr').count()).toBe(2);
    await shot(page, 'detail-admin');
    const stored = (await store.get(miner.id))!;
    expect(stored.status).toBe('dismissed');
    expect(stored.history.map((h) => [h.to, h.by, h.reason])).toEqual([
      ['in-progress', 'ada', 'looking at the payments namespace'],
      ['dismissed', 'ada', 'test miner in a sandbox, accepted'],
    ]);

    // Cross-site forgery with the admin's cookie: no console header, or another origin → refused.
    const body = JSON.stringify({ status: 'active', reason: 'forged' });
    expect((await withCookie(context, 'POST', `/api/v1/alerts/${miner.id}/status`, {}, body)).status).toBe(403);
    expect(
      (await withCookie(context, 'POST', `/api/v1/alerts/${miner.id}/status`, { 'x-bulwark-console': '1', origin: 'https://evil.example' }, body)).status,
    ).toBe(403);
    expect(
      (await withCookie(context, 'POST', `/api/v1/alerts/${miner.id}/status`, { 'x-bulwark-console': '1', 'sec-fetch-site': 'cross-site' }, body)).status,
    ).toBe(403);
    expect((await store.get(miner.id))!.status).toBe('dismissed');
    await context.close();
    expect(problems).toEqual([]);
  }, 60_000);

  it('reads in dark mode and in a narrow window without the page scrolling sideways', async () => {
    const { context, page } = await open({ colorScheme: 'dark' });
    await signIn(page, READER);
    await rows(page).first().waitFor();
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(background).toBe('rgb(17, 20, 24)');
    await shot(page, 'alerts-dark');
    await page.setViewportSize({ width: 420, height: 800 });
    await page.goto(base + `/ui/alerts/${miner.id}`);
    await page.locator('#evidence').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.goto(base + '/ui/alerts');
    await rows(page).first().waitFor();
    // The table scrolls inside its own box; the page does not.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'alerts-narrow.png') });
    await context.close();
    expect(problems).toEqual([]);
  }, 60_000);
});
