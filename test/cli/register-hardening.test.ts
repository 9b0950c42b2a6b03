// `bulwark register` hardening (issue #20 item 6), against the API-server stand-in: the whole
// webhook spec is compared and restored, configurations bulwark does not own are never replaced
// or deleted, and the CA bundle and URL are checked before anything is sent.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createCA, createServingCert } from '../../certs/x509.js';
import {
  buildWebhookConfigurations,
  formatOutcomes,
  loadKubeConfig,
  MANAGED_BY_LABEL,
  renderInstallManifests,
  validateCABundle,
  validateWebhookUrl,
  WebhookRegistrar,
} from '../../cli/install.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';

type Obj = Record<string, any>;
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

const ca = createCA();

/** A stand-in API server and a registrar that talks to it through a kubeconfig, as the CLI does. */
async function standIn(): Promise<{ api: StandIn; registrar: WebhookRegistrar }> {
  const api = await startApiServerStandIn();
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-register-'));
  writeFileSync(join(dir, 'kubeconfig'), api.kubeconfig());
  return { api, registrar: new WebhookRegistrar(loadKubeConfig(join(dir, 'kubeconfig'))) };
}

const opts = { caBundle: ca.certPem, url: 'https://127.0.0.1:8443', mutate: true };

describe('bulwark register restores the whole webhook spec', () => {
  let api: StandIn;
  let registrar: WebhookRegistrar;
  beforeAll(async () => ({ api, registrar } = await standIn()));
  afterAll(async () => api?.close());
  beforeEach(async () => {
    api.objects.clear();
    expect(Object.values(await registrar.register(opts))).toEqual(['created', 'created']);
    expect(Object.values(await registrar.register(opts))).toEqual(['unchanged', 'unchanged']);
  });

  /** Edits the stored object the way `kubectl edit` would (a new resourceVersion). */
  function tamper(path: string, edit: (o: Obj) => void): void {
    const obj = api.objects.get(path)!;
    edit(obj);
    obj.metadata.resourceVersion = String(Number(obj.metadata.resourceVersion) + 100);
  }

  const TAMPERING: [string, (o: Obj) => void, RegExp][] = [
    [
      'an objectSelector that matches nothing',
      (o) => (o.webhooks[0].objectSelector = { matchLabels: { never: 'x' } }),
      /webhooks\[validate\.bulwark\.io\]\.objectSelector\.matchLabels: \{"never":"x"\} -> \(absent\)/,
    ],
    [
      'a matchCondition that is always false',
      (o) => (o.webhooks[0].matchConditions = [{ name: 'off', expression: 'false' }]),
      /webhooks\[validate\.bulwark\.io\]\.matchConditions: .*"off".* -> \(absent\)/,
    ],
    ['a namespaceSelector that excludes everything', (o) => (o.webhooks[0].namespaceSelector = { matchLabels: { none: 'y' } }), /namespaceSelector/],
    [
      'rules narrowed to nothing checked',
      (o) => (o.webhooks[0].rules = [{ apiGroups: ['example.com'], apiVersions: ['v1'], resources: ['nothing'], operations: ['CREATE'], scope: '*' }]),
      /webhooks\[validate\.bulwark\.io\]\.rules/,
    ],
    ['failurePolicy switched to Ignore', (o) => (o.webhooks[0].failurePolicy = 'Ignore'), /failurePolicy: "Ignore" -> "Fail"/],
    ['sideEffects changed', (o) => (o.webhooks[0].sideEffects = 'Some'), /sideEffects: "Some" -> "NoneOnDryRun"/],
    ['timeoutSeconds changed', (o) => (o.webhooks[0].timeoutSeconds = 1), /timeoutSeconds: 1 -> 5/],
    ['admissionReviewVersions changed', (o) => (o.webhooks[0].admissionReviewVersions = ['v1beta1']), /admissionReviewVersions\[0\]: "v1beta1" -> "v1"/],
    [
      'the URL redirected',
      (o) => (o.webhooks[0].clientConfig.url = 'https://evil.example:8443/validate'),
      /clientConfig\.url: "https:\/\/evil\.example:8443\/validate" -> "https:\/\/127\.0\.0\.1:8443\/validate"/,
    ],
    ['the namespace guard webhook (last) removed', (o) => o.webhooks.pop(), /webhooks\[namespaces\.bulwark\.io\]: \(absent\) -> /],
    // The diff is by position: removing the observing webhook shifts the guard into its place.
    [
      'the observing webhook removed',
      (o) => (o.webhooks = o.webhooks.filter((w: Obj) => w.name !== 'observe.bulwark.io')),
      /webhooks\[observe\.bulwark\.io\]\.name: "namespaces\.bulwark\.io" -> "observe\.bulwark\.io"/,
    ],
    [
      'a label of ours changed',
      (o) => (o.metadata.labels['app.kubernetes.io/name'] = 'other'),
      /metadata\.labels\.app\.kubernetes\.io\/name: "other" -> "bulwark"/,
    ],
  ];

  it.each(TAMPERING)('restores %s, saying what it restored', async (_name, edit, diffLine) => {
    const before = structuredClone(api.objects.get(`${VWC}/bulwark`)!);
    tamper(`${VWC}/bulwark`, edit);
    const result = await registrar.registerDetailed(opts);
    const v = result['validatingwebhookconfiguration/bulwark']!;
    expect(v.outcome).toBe('updated');
    expect(v.diff!.join('\n')).toMatch(diffLine);
    expect(result['mutatingwebhookconfiguration/bulwark-mutate']!.outcome).toBe('unchanged');
    const after = api.objects.get(`${VWC}/bulwark`)!;
    expect(after.webhooks).toEqual(before.webhooks);
    expect(formatOutcomes(result)).toMatch(
      /^validatingwebhookconfiguration\/bulwark updated\n {2}webhooks|^validatingwebhookconfiguration\/bulwark updated\n {2}metadata/,
    );
    expect(Object.values(await registrar.register(opts))).toEqual(['unchanged', 'unchanged']);
  });

  it('restores a tampered mutating configuration too', async () => {
    tamper(`${MWC}/bulwark-mutate`, (o) => (o.webhooks[0].reinvocationPolicy = 'Never'));
    const result = await registrar.registerDetailed(opts);
    expect(result['mutatingwebhookconfiguration/bulwark-mutate']).toEqual({
      outcome: 'updated',
      diff: ['webhooks[mutate.bulwark.io].reinvocationPolicy: "Never" -> "IfNeeded"'],
    });
  });
});

describe('bulwark register never replaces or deletes what it does not own', () => {
  let api: StandIn;
  let registrar: WebhookRegistrar;
  beforeAll(async () => ({ api, registrar } = await standIn()));
  afterAll(async () => api?.close());

  function store(path: string, labels: Record<string, string> | undefined, annotations?: Record<string, string>): Obj {
    const { validating } = buildWebhookConfigurations(opts);
    const obj: Obj = {
      ...validating,
      metadata: { name: path.split('/').pop(), ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}), resourceVersion: '7', uid: 'u-1' },
    };
    obj.webhooks[0].objectSelector = { matchLabels: { nobody: 'x' } };
    api.objects.set(path, structuredClone(obj));
    return obj;
  }

  it.each([
    ['Helm', { [MANAGED_BY_LABEL]: 'Helm' }, /managed by Helm \(release rel\): left to Helm/],
    ['nobody (no label)', undefined, /was not made by bulwark \(app\.kubernetes\.io\/managed-by: absent\): left alone/],
    ['another tool', { [MANAGED_BY_LABEL]: 'argocd' }, /was not made by bulwark \(app\.kubernetes\.io\/managed-by: "argocd"\)/],
  ])('leaves a configuration managed by %s alone, on register and on unregister', async (_who, labels, message) => {
    api.objects.clear();
    const before = store(`${VWC}/bulwark`, labels, { 'meta.helm.sh/release-name': 'rel' });
    store(`${MWC}/bulwark-mutate`, labels);
    const writes = () => api.requests.filter((r) => r.method !== 'GET').length;
    const n = writes();
    const result = await registrar.registerDetailed({ ...opts, mutate: false });
    expect(result['validatingwebhookconfiguration/bulwark']!.outcome).toBe('not-owned');
    expect(result['validatingwebhookconfiguration/bulwark']!.message).toMatch(message);
    // The stale mutating configuration is not ours either: not deleted.
    expect(result['mutatingwebhookconfiguration/bulwark-mutate']!.outcome).toBe('not-owned');
    expect(await registrar.unregister()).toEqual({
      'validatingwebhookconfiguration/bulwark': 'not-owned',
      'mutatingwebhookconfiguration/bulwark-mutate': 'not-owned',
    });
    expect(writes()).toBe(n);
    expect(api.objects.get(`${VWC}/bulwark`)!.webhooks).toEqual(before.webhooks);
    expect(api.objects.has(`${MWC}/bulwark-mutate`)).toBe(true);
    expect(formatOutcomes(result)).toMatch(/^validatingwebhookconfiguration\/bulwark left alone: /);
  });

  it('still owns what it labelled before (bulwark-register) and labels it bulwark now', async () => {
    api.objects.clear();
    store(`${VWC}/bulwark`, { [MANAGED_BY_LABEL]: 'bulwark-register' });
    const result = await registrar.registerDetailed({ ...opts, mutate: false });
    expect(result['validatingwebhookconfiguration/bulwark']!.outcome).toBe('updated');
    expect(api.objects.get(`${VWC}/bulwark`)!.metadata.labels[MANAGED_BY_LABEL]).toBe('bulwark');
    expect(await registrar.unregister()).toEqual({
      'validatingwebhookconfiguration/bulwark': 'deleted',
      'mutatingwebhookconfiguration/bulwark-mutate': 'absent',
    });
  });

  it('labels what it creates app.kubernetes.io/managed-by: bulwark, and so does bulwark manifests', async () => {
    api.objects.clear();
    await registrar.register(opts);
    expect(api.objects.get(`${VWC}/bulwark`)!.metadata.labels[MANAGED_BY_LABEL]).toBe('bulwark');
    const docs = parseAllDocuments(renderInstallManifests())
      .map((d) => d.toJS() as Obj)
      .filter(Boolean);
    for (const d of docs.filter((x) => x.metadata?.labels?.[MANAGED_BY_LABEL])) expect(d.metadata.labels[MANAGED_BY_LABEL], `${d.kind}`).toBe('bulwark');
    expect(docs.find((d) => d.kind === 'ValidatingWebhookConfiguration')!.metadata.labels[MANAGED_BY_LABEL]).toBe('bulwark');
  });
});

describe('what register sends is checked first', () => {
  const leaf = createServingCert(ca, { dnsNames: ['localhost'] });

  it.each([
    ['text that is not PEM', 'hello', /no PEM certificate/],
    ['a serving certificate instead of the CA', leaf.certPem, /certificate 1 .* is not a CA certificate/],
    ['a CA followed by a private key', ca.certPem + ca.keyPem, /holds something other than certificates .*never a key/],
    ['a damaged certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /certificate 1 does not parse/],
  ])('refuses a CA bundle that is %s', (_name, pem, message) => {
    expect(() => validateCABundle(pem, 'ca.crt')).toThrow(message);
    expect(() => buildWebhookConfigurations({ caBundle: pem, url: 'https://127.0.0.1:8443' })).toThrow(message);
  });

  it('accepts a bundle of two CAs (rotation overlap)', () => {
    expect(() => validateCABundle(ca.certPem + createCA().certPem)).not.toThrow();
  });

  it.each([
    ['http://127.0.0.1:8443', /must use https:\/\//],
    ['ftp://x', /must use https:\/\//],
    ['https://user:pw@127.0.0.1:8443', /user information/],
    ['https://127.0.0.1:8443/?x=1', /query or fragment/],
    ['https://127.0.0.1:8443#frag', /query or fragment/],
    ['not a url', /is not a URL/],
  ])('refuses the URL %s', (url, message) => {
    expect(() => validateWebhookUrl(url)).toThrow(message);
    expect(() => buildWebhookConfigurations({ caBundle: ca.certPem, url })).toThrow(message);
  });
});

describe('bulwark register, the command', () => {
  let api: StandIn;
  let dir: string;
  beforeAll(async () => {
    ({ api } = await standIn());
    dir = mkdtempSync(join(tmpdir(), 'bulwark-register-cli-'));
    writeFileSync(join(dir, 'kubeconfig'), api.kubeconfig());
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(join(dir, 'leaf.crt'), createServingCert(ca, { dnsNames: ['localhost'] }).certPem);
  });
  afterAll(async () => api?.close());

  /** The built CLI in a child process (asynchronous: the stand-in answers from this process). */
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
      const child = spawn(process.execPath, [join(__dirname, '../../bin/bulwark.js'), 'register', '--kubeconfig', join(dir, 'kubeconfig'), ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolveRun({ code, stdout, stderr }));
    });
  const base = ['--url', 'https://127.0.0.1:8443'];

  it('prints what it restored, and exits 1 when it had to leave a configuration alone', async () => {
    expect((await run([...base, '--ca-file', join(dir, 'ca.crt')])).stdout).toMatch(/validatingwebhookconfiguration\/bulwark created/);
    const stored = api.objects.get(`${VWC}/bulwark`)!;
    stored.webhooks[0].matchConditions = [{ name: 'off', expression: 'false' }];
    const restored = await run([...base, '--ca-file', join(dir, 'ca.crt')]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(
      /^validatingwebhookconfiguration\/bulwark updated\n {2}webhooks\[validate\.bulwark\.io\]\.matchConditions: .* -> \(absent\)\n/,
    );
    api.objects.get(`${VWC}/bulwark`)!.metadata.labels[MANAGED_BY_LABEL] = 'Helm';
    const helmOwned = await run([...base, '--ca-file', join(dir, 'ca.crt'), '--unregister']);
    expect(helmOwned.code).toBe(1);
    expect(helmOwned.stdout).toMatch(/validatingwebhookconfiguration\/bulwark left alone: .*managed by Helm/);
    expect(api.objects.has(`${VWC}/bulwark`)).toBe(true);
  });

  it.each([
    [['--url', 'https://127.0.0.1:8443', '--ca-file', 'leaf.crt'], /leaf\.crt: certificate 1 .* is not a CA certificate/],
    [['--url', 'http://127.0.0.1:8443', '--ca-file', 'ca.crt'], /must use https:\/\//],
  ])('refuses %j before sending anything', async (args, message) => {
    const before = api.requests.length;
    const r = await run(args.map((a) => (a.endsWith('.crt') ? join(dir, a) : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(api.requests.length).toBe(before);
  });
});
