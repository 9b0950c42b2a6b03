import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createCA } from '../../certs/x509.js';
import { buildWebhookConfigurations, loadKubeConfig, projectRoot, renderInstallManifests, WebhookRegistrar } from '../../cli/install.js';
import { parseConfig } from '../../config/load.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';
import { chartDir, helmBinary } from '../support/helm.js';

type Obj = Record<string, any>;

describe('charts/static (what manifests and register start from)', () => {
  it('is up to date with the chart (run charts/render-static.sh after changing the chart)', () => {
    const common = [
      '--namespace',
      'bulwark-system',
      '--set',
      'certificates.mode=secret',
      '--set',
      'certificates.existingSecret=bulwark-tls',
      '--set',
      'certificates.caBundle=BULWARK-CA-BUNDLE-SET-BY-THE-CLI',
    ];
    const install = execFileSync(helmBinary(), ['template', 'bulwark', chartDir, ...common], { encoding: 'utf8' });
    const committed = readFileSync(join(projectRoot(), 'charts/static/install.yaml'), 'utf8');
    expect(committed.slice(committed.indexOf('---'))).toBe(install);
  });
});

describe('bulwark manifests', () => {
  const docs = (text: string): Obj[] =>
    parseAllDocuments(text)
      .map((d) => d.toJS() as Obj)
      .filter(Boolean);

  it('renders the chart defaults with a fresh certificate and the CA in every webhook', () => {
    const out = docs(renderInstallManifests());
    const kinds = out.map((d) => d.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['Namespace', 'Secret', 'Deployment', 'Service', 'ValidatingWebhookConfiguration', 'ClusterRole', 'ConfigMap']),
    );
    const secret = out.find((d) => d.kind === 'Secret')!;
    const ca = new X509Certificate(secret.stringData['ca.crt']);
    const leaf = new X509Certificate(secret.stringData['tls.crt']);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:bulwark.bulwark-system.svc');
    for (const w of out.find((d) => d.kind === 'ValidatingWebhookConfiguration')!.webhooks) {
      expect(Buffer.from(w.clientConfig.caBundle, 'base64').toString()).toBe(secret.stringData['ca.crt']);
    }
  });

  it('starts with the PolicyReport CRDs of the chart (the background scan writes reports), unless crds is false', () => {
    const out = docs(renderInstallManifests());
    expect(out.slice(0, 2).map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'CustomResourceDefinition/clusterpolicyreports.wgpolicyk8s.io',
      'CustomResourceDefinition/policyreports.wgpolicyk8s.io',
    ]);
    expect(docs(renderInstallManifests({ crds: false })).some((d) => d.kind === 'CustomResourceDefinition')).toBe(false);
  });

  it('moves everything into another namespace and sets the mode', () => {
    const out = docs(renderInstallManifests({ namespace: 'security', mode: 'warn' }));
    for (const d of out) if (d.metadata.namespace) expect(d.metadata.namespace, `${d.kind}`).toBe('security');
    expect(out.find((d) => d.kind === 'Namespace')!.metadata.name).toBe('security');
    const binding = out.find((d) => d.kind === 'ClusterRoleBinding')!;
    expect(binding.subjects[0].namespace).toBe('security');
    const vwc = out.find((d) => d.kind === 'ValidatingWebhookConfiguration')!;
    expect(vwc.webhooks[0].clientConfig.service.namespace).toBe('security');
    expect(vwc.webhooks[0].namespaceSelector.matchExpressions[0].values).toEqual(['kube-system', 'security']);
    const secret = out.find((d) => d.kind === 'Secret')!;
    expect(new X509Certificate(secret.stringData['tls.crt']).subjectAltName).toContain('DNS:bulwark.security.svc');
    const config = parseConfig(out.find((d) => d.kind === 'ConfigMap')!.data['config.yaml']);
    expect(config.defaultAction).toBe('warn');
    expect(config.exemptions.namespaces).toEqual(['security']);
  });
});

describe('bulwark register against an API server stand-in', () => {
  let api: StandIn;
  let registrar: WebhookRegistrar;
  const ca = createCA();

  beforeAll(async () => {
    api = await startApiServerStandIn();
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-register-'));
    writeFileSync(join(dir, 'kubeconfig'), api.kubeconfig());
    registrar = new WebhookRegistrar(loadKubeConfig(join(dir, 'kubeconfig')));
  });
  afterAll(async () => api?.close());

  it('points the webhooks at a URL or a Service with the CA bundle', () => {
    const byUrl = buildWebhookConfigurations({ caBundle: ca.certPem, url: 'https://127.0.0.1:8443/', mutate: true });
    expect(byUrl.validating.webhooks.map((w: Obj) => w.clientConfig.url)).toEqual([
      'https://127.0.0.1:8443/validate',
      'https://127.0.0.1:8443/validate/audit',
      'https://127.0.0.1:8443/validate',
    ]);
    expect(byUrl.mutating!.webhooks[0].clientConfig.url).toBe('https://127.0.0.1:8443/mutate');
    expect(Buffer.from(byUrl.validating.webhooks[0].clientConfig.caBundle, 'base64').toString()).toBe(ca.certPem);
    const bySvc = buildWebhookConfigurations({ caBundle: ca.certPem, namespace: 'sec', failurePolicy: 'Ignore', timeoutSeconds: 3 });
    expect(bySvc.mutating).toBeUndefined();
    expect(bySvc.validating.webhooks[0]).toMatchObject({
      failurePolicy: 'Ignore',
      timeoutSeconds: 3,
      clientConfig: { service: { name: 'bulwark', namespace: 'sec', path: '/validate', port: 443 } },
    });
    expect(bySvc.validating.webhooks[1].failurePolicy).toBe('Ignore');
  });

  it('creates both configurations, then is idempotent, then updates when the CA changes', async () => {
    const opts = { caBundle: ca.certPem, url: 'https://127.0.0.1:8443', mutate: true };
    expect(await registrar.register(opts)).toEqual({
      'validatingwebhookconfiguration/bulwark': 'created',
      'mutatingwebhookconfiguration/bulwark-mutate': 'created',
    });
    const creates = api.requests.filter((r) => r.method === 'POST');
    expect(creates.map((r) => r.path)).toEqual([
      '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    ]);
    for (const r of creates) {
      expect(r.contentType).toBe('application/json');
      expect(r.body).toMatchObject({ apiVersion: 'admissionregistration.k8s.io/v1' });
    }
    expect((creates[0]!.body as Obj).kind).toBe('ValidatingWebhookConfiguration');

    const before = api.requests.length;
    expect(Object.values(await registrar.register(opts))).toEqual(['unchanged', 'unchanged']);
    expect(api.requests.slice(before).every((r) => r.method === 'GET')).toBe(true);

    const ca2 = createCA();
    expect(Object.values(await registrar.register({ ...opts, caBundle: ca2.certPem }))).toEqual(['updated', 'updated']);
    const put = api.requests.filter((r) => r.method === 'PUT');
    expect(put).toHaveLength(2);
    expect((put[0]!.body as Obj).metadata.resourceVersion).toMatch(/^\d+$/);
    const stored = api.objects.get('/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/bulwark')!;
    expect(Buffer.from(stored.webhooks[0].clientConfig.caBundle, 'base64').toString()).toBe(ca2.certPem);
  });

  it('removes a stale mutating configuration when mutation is no longer asked for, and unregisters', async () => {
    expect(await registrar.register({ caBundle: ca.certPem, url: 'https://127.0.0.1:8443' })).toMatchObject({
      'mutatingwebhookconfiguration/bulwark-mutate': 'deleted',
    });
    expect(await registrar.unregister()).toEqual({
      'validatingwebhookconfiguration/bulwark': 'deleted',
      'mutatingwebhookconfiguration/bulwark-mutate': 'absent',
    });
    expect(api.objects.size).toBe(0);
    expect(await registrar.unregister()).toEqual({
      'validatingwebhookconfiguration/bulwark': 'absent',
      'mutatingwebhookconfiguration/bulwark-mutate': 'absent',
    });
  });

  it('says what failed when the API server refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-register-'));
    writeFileSync(join(dir, 'kubeconfig'), api.kubeconfig().replace(api.token, 'wrong-token'));
    const bad = new WebhookRegistrar(loadKubeConfig(join(dir, 'kubeconfig')));
    await expect(bad.register({ caBundle: ca.certPem, url: 'https://127.0.0.1:8443' })).rejects.toThrow(
      /validating webhook configuration bulwark: the API server at .* rejected the kubeconfig's credentials \(401 Unauthorized\): log in again/,
    );
  });
});
