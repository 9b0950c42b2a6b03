// The chart's install hardening (issue #20 items 1, 2 and 7), rendered with the real helm binary.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../config/load.js';
import { parseApiSettings } from '../../alerts/settings.js';
import { resolveServerSettings } from '../../cli/serve.js';
import { chartDir, helm } from '../support/helm.js';

type Obj = Record<string, any>;

const OPT_IN = ['--set', 'certificates.generate.allowTemplateRender=true'];

function template(sets: string[], { namespace = 'bulwark-system', release = 'rel', optIn = true, chart = chartDir } = {}) {
  const args = ['template', release, chart, '--namespace', namespace, ...(optIn ? OPT_IN : [])];
  for (const s of sets) args.push('--set', s);
  return helm(args);
}

function render(sets: string[] = [], options: { namespace?: string; release?: string } = {}): Obj[] {
  const r = template(sets, options);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
}

const VALUE_SETS: string[][] = [
  [],
  ['mutation.enabled=true'],
  ['mutation.enabled=true', 'certificates.mode=cert-manager'],
  ['certificates.mode=secret', 'certificates.existingSecret=my-tls', 'certificates.caBundle=PEM'],
  ['networkPolicy.enabled=true', 'alerts.persistence.enabled=true'],
];

describe('chart: the pod cannot rewrite its own webhooks (item 1)', () => {
  it.each(VALUE_SETS.map((s) => [s.join(' ') || 'defaults', s]))('grants nothing on admissionregistration.k8s.io (%s)', (_n, sets) => {
    const docs = render(sets as string[]);
    const roles = docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role');
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        expect(rule.apiGroups, `${role.kind} ${role.metadata.name}`).not.toContain('admissionregistration.k8s.io');
        expect(rule.apiGroups).not.toContain('*');
        expect(rule.resources.join(',')).not.toMatch(/webhookconfigurations/);
      }
    }
  });

  it.each(VALUE_SETS.map((s) => [s.join(' ') || 'defaults', s]))('mounts only tls.crt and tls.key of the serving Secret, never ca.key (%s)', (_n, sets) => {
    const pod = render(sets as string[]).find((d) => d.kind === 'Deployment')!.spec.template.spec;
    const keysOf = (v: Obj): string[] | 'all' => {
      if (v.secret) return v.secret.items ? v.secret.items.map((i: Obj) => i.key) : 'all';
      if (v.projected) {
        const out: string[] = [];
        for (const src of v.projected.sources ?? []) {
          if (src.secret) {
            if (!src.secret.items) return 'all';
            out.push(...src.secret.items.map((i: Obj) => i.key));
          }
        }
        return out;
      }
      return [];
    };
    const tls = pod.volumes.find((v: Obj) => v.name === 'tls');
    expect(keysOf(tls)).toEqual(['tls.crt', 'tls.key']);
    for (const v of pod.volumes) {
      const keys = keysOf(v);
      expect(keys, `volume ${v.name} exposes a whole Secret`).not.toBe('all');
      expect(keys).not.toContain('ca.key');
    }
  });
});

describe('chart: a namespace of its own (item 2)', () => {
  it.each(['default', 'kube-system', 'kube-public'])('refuses the release namespace %s with a clear message', (ns) => {
    const r = template([], { namespace: ns });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`namespace of its own.*not "${ns}".*exempt from enforcement and observation`));
  });

  it('says in NOTES.txt what is excluded from enforcement and observation', () => {
    // NOTES.txt is not printed by `helm template`: render it through a copy of the chart with one
    // more template that includes it (the same template set helm install renders NOTES from).
    const copy = mkdtempSync(join(tmpdir(), 'bulwark-chart-'));
    cpSync(chartDir, copy, { recursive: true });
    writeFileSync(
      join(copy, 'templates/zz-notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ include "bulwark/templates/NOTES.txt" . | quote }}\n',
    );
    const r = helm([
      'template',
      'rel',
      copy,
      '-n',
      'sec',
      ...OPT_IN,
      '--show-only',
      'templates/zz-notes.yaml',
      '--set',
      'webhook.excludeNamespaces={flux-system}',
      '--set',
      'exemptions.groups={break-glass}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const notes: string = (parseAllDocuments(r.stdout)[0]!.toJS() as Obj).data.notes;
    expect(notes).toMatch(/does NOT check/);
    expect(notes).toMatch(/namespace sec \(the release namespace\): never enforced, never observed/);
    expect(notes).toMatch(/kube-system: never enforced; observed in audit mode/);
    expect(notes).toMatch(/flux-system \(webhook\.excludeNamespaces\)/);
    expect(notes).toMatch(/bulwark\.io\/webhook=ignore/);
    expect(notes).toMatch(/groups break-glass \(exemptions\.groups\)/);
    expect(notes).toMatch(/rel-bulwark-security-reader/);
  });
});

describe('chart: safe defaults (item 7)', () => {
  it('with networkPolicy.enabled and no alertsFrom/metricsFrom, only the webhook port is open', () => {
    const np = render(['networkPolicy.enabled=true']).find((d) => d.kind === 'NetworkPolicy')!;
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    const open = np.spec.ingress.flatMap((rule: Obj) => rule.ports.map((p: Obj) => ({ port: p.port, from: rule.from })));
    expect(open).toEqual([{ port: 8443, from: undefined }]);
  });

  it('opens the alerts and metrics ports to the listed peers only', () => {
    const np = render([
      'networkPolicy.enabled=true',
      'networkPolicy.alertsFrom[0].namespaceSelector.matchLabels.team=sec',
      'networkPolicy.metricsFrom[0].podSelector.matchLabels.app=prometheus',
    ]).find((d) => d.kind === 'NetworkPolicy')!;
    const rule = (port: number) => np.spec.ingress.find((r: Obj) => r.ports.some((p: Obj) => p.port === port));
    expect(rule(8444).from).toEqual([{ namespaceSelector: { matchLabels: { team: 'sec' } } }]);
    expect(rule(9443).from).toEqual([{ podSelector: { matchLabels: { app: 'prometheus' } } }]);
  });

  it('serves /metrics on a port of its own, and not on the webhook port', () => {
    const docs = render();
    const container = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0];
    expect(container.ports).toContainEqual({ name: 'metrics', containerPort: 9443, protocol: 'TCP' });
    expect(docs.find((d) => d.kind === 'Service')!.spec.ports).toContainEqual({ name: 'metrics', port: 9443, targetPort: 'metrics', protocol: 'TCP' });
    const config = parseConfig(docs.find((d) => d.kind === 'ConfigMap')!.data['config.yaml']);
    const server = resolveServerSettings(config.server, {}, {});
    expect(server.metricsPort).toBe(9443);
    expect(server.metricsOnWebhookPort).toBe(false);
  });

  it('asks TokenReview for the Bulwark audience (alerts.api.audiences)', () => {
    const config = (sets: string[]) => parseConfig(render(sets).find((d) => d.kind === 'ConfigMap')!.data['config.yaml']);
    expect(parseApiSettings(config([]).api).audiences).toEqual(['bulwark']);
    expect(parseApiSettings(config(['alerts.api.audiences={bulwark,https://kubernetes.default.svc}']).api).audiences).toEqual([
      'bulwark',
      'https://kubernetes.default.svc',
    ]);
    expect(template(['alerts.api.audiences={}']).stderr).toMatch(/audiences/);
  });

  it('refuses certificates.mode=secret without a CA bundle (webhooks with no CA refuse every request)', () => {
    const r = template(['certificates.mode=secret', 'certificates.existingSecret=my-tls']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/certificates\.mode=secret needs the CA.*certificates\.caBundle/);
  });

  it('does not generate a CA and keys into a rendering made without a cluster (helm template, GitOps) unless asked', () => {
    const r = template([], { optIn: false });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/certificates\.mode=generate needs a live cluster.*cert-manager.*allowTemplateRender/);
    expect(r.stdout).not.toMatch(/PRIVATE KEY|ca\.key/);
    // cert-manager and existing-Secret modes render fine without a cluster.
    expect(template(['certificates.mode=cert-manager'], { optIn: false }).code).toBe(0);
    expect(template(['certificates.mode=secret', 'certificates.existingSecret=s', 'certificates.caBundle=PEM'], { optIn: false }).code).toBe(0);
  });

  it('gives cluster-scoped objects names that carry the release, so two releases never collide', () => {
    const clusterScoped = (release: string) =>
      render(['mutation.enabled=true'], { release, namespace: `ns-${release}` })
        .filter((d) => !d.metadata.namespace)
        .map((d) => `${d.kind}/${d.metadata.name}`);
    const one = clusterScoped('one');
    const two = clusterScoped('two');
    expect(one).toEqual(
      expect.arrayContaining([
        'ClusterRole/one-bulwark',
        'ClusterRoleBinding/one-bulwark',
        'ClusterRole/one-bulwark-security-reader',
        'ClusterRole/one-bulwark-security-admin',
        'ValidatingWebhookConfiguration/one-bulwark',
        'MutatingWebhookConfiguration/one-bulwark-mutate',
      ]),
    );
    for (const name of one) expect(two).not.toContain(name);
  });
});
