import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileConfig } from '../../policies/config.js';
import { parseConfig } from '../../config/load.js';
import { evaluateSubject } from '../../policies/evaluate.js';
import { toSubject } from '../../policies/subject.js';
import { chartDir, helm } from '../support/helm.js';

type Obj = Record<string, any>;

function render(sets: string[] = [], namespace = 'bulwark-system', valuesFiles: string[] = []): Obj[] {
  // helm template asks no cluster: generated certificates need the explicit opt-in (test/charts/chart-hardening.test.ts).
  const args = ['template', 'rel', chartDir, '--namespace', namespace, '--set', 'certificates.generate.allowTemplateRender=true'];
  for (const f of valuesFiles) args.push('-f', f);
  for (const s of sets) args.push('--set', s);
  const r = helm(args);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  const docs: Obj[] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    expect(doc.errors, 'every rendered document parses').toEqual([]);
    const value = doc.toJS();
    if (value) docs.push(value as Obj);
  }
  return docs;
}

const find = (docs: Obj[], kind: string, name?: string): Obj => {
  const found = docs.find((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''} rendered`);
  return found;
};

const VALUE_SETS: Record<string, string[]> = {
  defaults: [],
  'audit-only warning mode': ['mode=warn'],
  'mutation, cert-manager': ['mutation.enabled=true', 'certificates.mode=cert-manager'],
  'existing secret': ['certificates.mode=secret', 'certificates.existingSecret=my-tls', 'certificates.caBundle=PEM'],
  'autoscaling on a shared store': ['autoscaling.enabled=true', 'alerts.storeUrlSecret=bulwark-store'],
  'network policy, persistence, pss': [
    'networkPolicy.enabled=true',
    'alerts.persistence.enabled=true',
    'profiles={defender,pss-restricted@v1.29}',
    'actions.kube-system-workload=audit',
  ],
};

describe('helm chart', () => {
  it.each(Object.entries(VALUE_SETS))('passes helm lint --strict with %s', (_name, sets) => {
    const args = ['lint', chartDir, '--strict', '--namespace', 'bulwark-system', '--set', 'certificates.generate.allowTemplateRender=true'];
    for (const s of sets) args.push('--set', s);
    const r = helm(args);
    expect(r.stderr + r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(r.code).toBe(0);
  });

  it.each([
    ['mode=block', /mode must be one of the following/],
    ['webhook.timeoutSeconds=60', /timeoutSeconds/],
    ['profiles={pss-strict}', /profiles/],
    ['certificates.mode=magic', /certificates.mode/],
    ['unknownKey=1', /unknownKey/],
  ])('rejects invalid values (%s) through values.schema.json', (set, message) => {
    const r = helm(['template', 'rel', chartDir, '--set', set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('labels every object with app.kubernetes.io labels', () => {
    for (const doc of render()) {
      expect(doc.metadata.labels['app.kubernetes.io/name'], `${doc.kind} ${doc.metadata.name}`).toBe('bulwark');
      expect(doc.metadata.labels['app.kubernetes.io/instance']).toBe('rel');
      expect(doc.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    }
  });

  it('renders a hardened, highly available Deployment whose pod passes pss-restricted through Bulwark itself', () => {
    const docs = render();
    const deploy = find(docs, 'Deployment');
    expect(deploy.spec.replicas).toBe(2);
    const pod = deploy.spec.template.spec;
    expect(pod.topologySpreadConstraints[0].topologyKey).toBe('kubernetes.io/hostname');
    const c = pod.containers[0];
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', scheme: 'HTTPS' });
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', scheme: 'HTTPS' });
    expect(c.resources.requests).toBeDefined();
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    const compiled = compileConfig(parseConfig('profiles: [pss-restricted, defender]'));
    expect(compiled.checks.length).toBeGreaterThan(0);
    const { findings, errors } = evaluateSubject(toSubject(deploy as never)!, compiled);
    expect(errors).toEqual([]);
    expect(findings).toEqual([]);
    expect(find(docs, 'PodDisruptionBudget').spec.minAvailable).toBe(1);
  });

  it('installs nothing its own defender set would flag (an upgrade under enforce must not be denied)', () => {
    const compiled = compileConfig(parseConfig('profiles: [defender]'));
    for (const doc of render(['mutation.enabled=true'])) {
      const subject = toSubject(doc as never);
      if (!subject) continue;
      const { findings } = evaluateSubject(subject, compiled);
      expect(findings, `${doc.kind} ${doc.metadata.name}`).toEqual([]);
    }
  });

  it('examples/helm/ha-values.yaml: an HPA on CPU and no fixed replicas, PDB of 2, anti-affinity, the store URL from a Secret, cluster and pool size in the config', () => {
    const docs = render([], 'bulwark-system', [join(chartDir, '../../examples/helm/ha-values.yaml')]);
    const hpa = find(docs, 'HorizontalPodAutoscaler');
    expect(hpa).toMatchObject({
      apiVersion: 'autoscaling/v2',
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'rel-bulwark' }, minReplicas: 3, maxReplicas: 6 },
    });
    expect(hpa.spec.metrics[0].resource).toEqual({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } });
    const deployment = find(docs, 'Deployment');
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.template.spec.affinity.podAntiAffinity).toBeDefined();
    expect(deployment.spec.template.spec.topologySpreadConstraints).toHaveLength(1);
    const env = deployment.spec.template.spec.containers[0].env as Obj[];
    expect(env.find((e) => e.name === 'BULWARK_STORE_URL')?.valueFrom?.secretKeyRef).toMatchObject({ name: 'bulwark-store', key: 'url' });
    expect(find(docs, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    const config = parseConfig(find(docs, 'ConfigMap').data['config.yaml'], 'configmap');
    expect(config.cluster).toEqual({ name: 'prod-eu-1' });
    expect(config.store.maxConnections).toBe(10);
    // Without autoscaling the Deployment keeps its replica count.
    expect(find(render(), 'Deployment').spec.replicas).toBe(2);
  });

  it('refuses autoscaling on per-replica SQLite stores', () => {
    const r = helm(['template', 'rel', chartDir, '--set', 'certificates.generate.allowTemplateRender=true', '--set', 'autoscaling.enabled=true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('autoscaling.enabled needs a store the replicas share');
  });

  it('ships a ConfigMap that Bulwark accepts as its configuration', () => {
    const docs = render(['mode=warn', 'profiles={defender,pss-baseline}', 'exemptions.images={registry.k8s.io/*}']);
    const text = find(docs, 'ConfigMap').data['config.yaml'];
    const config = parseConfig(text, 'configmap');
    expect(config.defaultAction).toBe('warn');
    expect(config.profiles).toEqual(['defender', 'pss-baseline']);
    expect(config.exemptions.namespaces).toContain('bulwark-system');
    expect(config.exemptions.images).toEqual(['registry.k8s.io/*']);
  });

  it('forwards alerts with notify.sinks, their secrets from notify.secret mounted read-only at /etc/bulwark/notify', () => {
    const docs = render([
      'notify.secret=bulwark-notify',
      'notify.sinks[0].name=slack',
      'notify.sinks[0].type=slack',
      'notify.sinks[0].urlFile=/etc/bulwark/notify/slack-url',
      'notify.sinks[0].minSeverity=high',
    ]);
    const config = parseConfig(find(docs, 'ConfigMap').data['config.yaml'], 'configmap');
    expect(config.notify).toEqual({ sinks: [{ name: 'slack', type: 'slack', urlFile: '/etc/bulwark/notify/slack-url', minSeverity: 'high' }] });
    const pod = find(docs, 'Deployment').spec.template.spec;
    expect(pod.volumes.find((v: Obj) => v.name === 'notify')).toEqual({ name: 'notify', secret: { secretName: 'bulwark-notify', defaultMode: 0o440 } });
    expect(pod.containers[0].volumeMounts.find((m: Obj) => m.name === 'notify')).toEqual({ name: 'notify', mountPath: '/etc/bulwark/notify', readOnly: true });
    // Without them: no notify section, no volume.
    const plain = render();
    expect(parseConfig(find(plain, 'ConfigMap').data['config.yaml'], 'configmap').notify).toBeUndefined();
    expect(find(plain, 'Deployment').spec.template.spec.volumes.some((v: Obj) => v.name === 'notify')).toBe(false);
  });

  it('listens on the pod interfaces (bulwark serve alone binds loopback); listenAddress changes both listeners', () => {
    const configOf = (sets: string[]) => parseConfig(find(render(sets), 'ConfigMap').data['config.yaml'], 'configmap');
    const byDefault = configOf([]);
    expect([byDefault.server.address, byDefault.api.address]).toEqual(['0.0.0.0', '0.0.0.0']);
    const v6 = configOf(['listenAddress=::']);
    expect([v6.server.address, v6.api.address]).toEqual(['::', '::']);
  });

  it('grants least privilege: namespaces read, reviews create, nothing on webhook configurations', () => {
    const docs = render();
    const role = find(docs, 'ClusterRole', 'rel-bulwark');
    const verbsFor = (resource: string) => role.rules.filter((r: Obj) => r.resources.includes(resource)).flatMap((r: Obj) => r.verbs);
    expect(verbsFor('namespaces').sort()).toEqual(['get', 'list', 'watch']);
    expect(verbsFor('tokenreviews')).toEqual(['create']);
    expect(verbsFor('subjectaccessreviews')).toEqual(['create']);
    expect(role.rules.find((r: Obj) => r.resources.includes('validatingwebhookconfigurations'))).toBeUndefined();
    for (const rule of role.rules) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources).not.toContain('*');
      expect(rule.resources).not.toContain('secrets');
    }
    expect(find(docs, 'ClusterRole', 'rel-bulwark-security-reader').rules[0]).toMatchObject({
      apiGroups: ['bulwark.io'],
      resources: ['alerts'],
      verbs: ['get', 'list'],
    });
    expect(find(docs, 'ClusterRole', 'rel-bulwark-security-admin').rules[0].verbs).toContain('update');
  });

  it('registers a fail-closed enforcing webhook that never matches kube-system or its own namespace, and an observing one', () => {
    const vwc = find(render(['webhook.excludeNamespaces={flux-system}']), 'ValidatingWebhookConfiguration');
    const [enforcing, observing] = vwc.webhooks;
    for (const w of [enforcing, observing]) {
      expect(w.admissionReviewVersions).toEqual(['v1']);
      expect(w.sideEffects).toBe('NoneOnDryRun');
      expect(w.timeoutSeconds).toBe(5);
      const resources = w.rules.flatMap((r: Obj) => r.resources);
      for (const r of [
        'pods',
        'pods/ephemeralcontainers',
        'podtemplates',
        'replicationcontrollers',
        'services',
        'deployments',
        'replicasets',
        'statefulsets',
        'daemonsets',
        'jobs',
        'cronjobs',
        'roles',
        'clusterroles',
        'rolebindings',
        'clusterrolebindings',
        'ingresses',
      ]) {
        expect(resources).toContain(r);
      }
      for (const rule of w.rules) expect(rule.operations).toEqual(['CREATE', 'UPDATE']);
    }
    expect(enforcing.failurePolicy).toBe('Fail');
    expect(enforcing.clientConfig.service.path).toBe('/validate');
    const notIn = enforcing.namespaceSelector.matchExpressions.find((e: Obj) => e.key === 'kubernetes.io/metadata.name');
    expect(notIn.operator).toBe('NotIn');
    expect(notIn.values).toEqual(expect.arrayContaining(['kube-system', 'bulwark-system', 'flux-system']));
    expect(observing.failurePolicy).toBe('Ignore');
    expect(observing.clientConfig.service.path).toBe('/validate/audit');
    expect(observing.namespaceSelector.matchExpressions[0]).toEqual({ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['kube-system'] });
  });

  it('renders the mutating webhook only when enabled, with reinvocationPolicy IfNeeded', () => {
    expect(render().some((d) => d.kind === 'MutatingWebhookConfiguration')).toBe(false);
    const mwc = find(render(['mutation.enabled=true']), 'MutatingWebhookConfiguration');
    expect(mwc.webhooks[0]).toMatchObject({
      reinvocationPolicy: 'IfNeeded',
      sideEffects: 'NoneOnDryRun',
      admissionReviewVersions: ['v1'],
      failurePolicy: 'Ignore',
    });
    expect(mwc.webhooks[0].clientConfig.service.path).toBe('/mutate');
  });

  it('generates a CA and a serving certificate for the service, with the CA in every caBundle', () => {
    const docs = render(['mutation.enabled=true'], 'sec');
    const secret = find(docs, 'Secret', 'rel-bulwark-tls');
    expect(secret.type).toBe('kubernetes.io/tls');
    const ca = new X509Certificate(Buffer.from(secret.data['ca.crt'], 'base64'));
    const leaf = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    expect(ca.ca).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:rel-bulwark.sec.svc');
    expect(leaf.subjectAltName).toContain('DNS:rel-bulwark.sec.svc.cluster.local');
    expect(Number(secret.metadata.annotations['bulwark.io/cert-not-after'])).toBeGreaterThan(Date.now() / 1000 + 300 * 86400);
    const bundles = [...find(docs, 'ValidatingWebhookConfiguration').webhooks, ...find(docs, 'MutatingWebhookConfiguration').webhooks].map((w: Obj) =>
      Buffer.from(w.clientConfig.caBundle, 'base64').toString(),
    );
    for (const b of bundles) expect(b).toBe(Buffer.from(secret.data['ca.crt'], 'base64').toString());
  });

  it('uses cert-manager when asked: Certificate for the service DNS names and CA injection', () => {
    const docs = render(['certificates.mode=cert-manager', 'mutation.enabled=true']);
    const cert = find(docs, 'Certificate', 'rel-bulwark');
    expect(cert.spec.dnsNames).toContain('rel-bulwark.bulwark-system.svc');
    expect(cert.spec.secretName).toBe('rel-bulwark-tls');
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      const cfg = find(docs, kind);
      expect(cfg.metadata.annotations['cert-manager.io/inject-ca-from']).toBe('bulwark-system/rel-bulwark');
      for (const w of cfg.webhooks) expect(w.clientConfig.caBundle).toBeUndefined();
    }
    expect(docs.some((d) => d.kind === 'Secret')).toBe(false);
  });

  it('uses an existing Secret and its CA bundle', () => {
    const docs = render(['certificates.mode=secret', 'certificates.existingSecret=my-tls', 'certificates.caBundle=PEMDATA']);
    expect(find(docs, 'Deployment').spec.template.spec.volumes.find((v: Obj) => v.name === 'tls').secret.secretName).toBe('my-tls');
    expect(Buffer.from(find(docs, 'ValidatingWebhookConfiguration').webhooks[0].clientConfig.caBundle, 'base64').toString()).toBe('PEMDATA');
  });
});

describe('chart: the namespace guard webhook (bulwark-tampering, #14 §4)', () => {
  it('sends Namespace creates and updates to /validate with no namespace selector (the opt-out label cannot hide its own setting), failurePolicy Ignore', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseAllDocuments } = await import('yaml');
    const text = readFileSync(new URL('../../charts/static/webhooks.yaml', import.meta.url), 'utf8');
    const vwc = parseAllDocuments(text)
      .map((d) => d.toJS())
      .find((d) => d?.kind === 'ValidatingWebhookConfiguration');
    const guard = vwc.webhooks.find((w: { name: string }) => w.name === 'namespaces.bulwark.io');
    expect(guard).toMatchObject({
      failurePolicy: 'Ignore',
      sideEffects: 'NoneOnDryRun',
      rules: [{ apiGroups: [''], resources: ['namespaces'], operations: ['CREATE', 'UPDATE'], scope: 'Cluster' }],
    });
    expect(guard.namespaceSelector).toBeUndefined();
    expect(guard.objectSelector).toBeUndefined();
    expect(guard.clientConfig.service.path).toBe('/validate');
  });
});
