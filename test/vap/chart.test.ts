// The chart's ValidatingAdmissionPolicies: rendered by the real helm binary when vap.enabled on a cluster
// that serves them (v1, or v1beta1 on 1.28-1.29), never otherwise; valid against the Kubernetes schema;
// the same policies as `bulwark vap` for the same values; and the chart's data file in sync with the code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultConfig } from '../../config/load.js';
import { compileConfig } from '../../policies/config.js';
import { renderChartData } from '../../vap/chart.js';
import { generateVap } from '../../vap/generate.js';
import { chartDir, helm } from '../support/helm.js';
import { apiServerProblems, validateBinding, validatePolicy } from './k8s-schema.js';

type Obj = Record<string, any>;

const V1 = 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
const V1BETA1 = 'admissionregistration.k8s.io/v1beta1/ValidatingAdmissionPolicy';

function render(sets: string[], apiVersions: string[] = [V1]): { code: number; stderr: string; docs: Obj[] } {
  const args = ['template', 'rel', chartDir, '--namespace', 'bulwark-system', '--set', 'certificates.generate.allowTemplateRender=true'];
  for (const s of sets) args.push('--set', s);
  for (const a of apiVersions) args.push('--api-versions', a);
  const r = helm(args);
  const docs =
    r.code === 0
      ? parseAllDocuments(r.stdout)
          .map((d) => d.toJS() as Obj)
          .filter(Boolean)
      : [];
  return { code: r.code, stderr: r.stderr, docs };
}

const vapObjects = (docs: Obj[]): Obj[] => docs.filter((d) => String(d.kind).startsWith('ValidatingAdmissionPolicy'));

describe('chart: ValidatingAdmissionPolicies', () => {
  it('files/vap-policies.json is what the code compiles (regenerate with npm run vap:chart)', () => {
    const file = readFileSync(join(chartDir, 'files', 'vap-policies.json'), 'utf8');
    expect(file).toBe(renderChartData());
  });

  it('renders nothing by default, and nothing on a cluster without ValidatingAdmissionPolicy', () => {
    expect(vapObjects(render([]).docs)).toEqual([]);
    const r = render(['vap.enabled=true'], []);
    expect(r.code).toBe(0);
    expect(vapObjects(r.docs)).toEqual([]);
  });

  it('vap.enabled on a 1.30+ cluster: v1 objects that validate, the same policies as `bulwark vap` for the same values', () => {
    const r = render(['vap.enabled=true', 'profiles={defender,pss-restricted}', 'actions.kube-system-workload=audit', 'exemptions.usernames={ci-bot}']);
    expect(r.code, r.stderr).toBe(0);
    const objects = vapObjects(r.docs);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      expect(o.apiVersion).toBe('admissionregistration.k8s.io/v1');
      const validate = o.kind === 'ValidatingAdmissionPolicy' ? validatePolicy : validateBinding;
      expect(validate(o), `${o.metadata.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(apiServerProblems(o), o.metadata.name).toEqual([]);
    }
    const config = {
      ...defaultConfig(),
      profiles: ['defender', 'pss-restricted'],
      exemptions: { namespaces: ['bulwark-system'], usernames: ['ci-bot'], groups: [], images: [] },
    };
    const cli = generateVap(compileConfig(config)).objects.filter((o) => o.kind === 'ValidatingAdmissionPolicy');
    const chart = objects.filter((o) => o.kind === 'ValidatingAdmissionPolicy');
    expect(chart.map((p) => p.metadata.name).sort()).toEqual(cli.map((p) => p.metadata.name).sort());
    for (const p of chart) {
      const twin = cli.find((c) => c.metadata.name === p.metadata.name)!;
      expect(p.spec, p.metadata.name).toEqual(twin.spec);
    }
    const binding = (name: string): Obj => objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && o.metadata.name === name)!;
    expect(binding('bulwark-kube-system-workload').spec.validationActions).toEqual(['Audit']);
    expect(binding('bulwark-privileged-container').spec.validationActions).toEqual(['Deny']);
    expect(binding('bulwark-privileged-container-mode-warn').spec.validationActions).toEqual(['Warn']);
    expect(binding('bulwark-privileged-container-kube-system').spec.validationActions).toEqual(['Audit']);
  });

  it('falls back to v1beta1 on Kubernetes 1.28-1.29, and vap.apiVersion forces a version', () => {
    const beta = vapObjects(render(['vap.enabled=true'], [V1BETA1]).docs);
    expect(beta.length).toBeGreaterThan(0);
    expect(new Set(beta.map((o) => o.apiVersion))).toEqual(new Set(['admissionregistration.k8s.io/v1beta1']));
    const forced = vapObjects(render(['vap.enabled=true', 'vap.apiVersion=v1beta1'], []).docs);
    expect(new Set(forced.map((o) => o.apiVersion))).toEqual(new Set(['admissionregistration.k8s.io/v1beta1']));
  });

  it('an action off drops the policy; warn mode binds Warn', () => {
    const objects = vapObjects(render(['vap.enabled=true', 'mode=warn', 'actions.host-namespaces=off']).docs);
    expect(objects.some((o) => o.metadata.name === 'bulwark-host-namespaces')).toBe(false);
    const b = objects.find((o) => o.metadata.name === 'bulwark-privileged-container')!;
    expect(
      b.kind === 'ValidatingAdmissionPolicyBinding'
        ? b
        : objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && o.metadata.name === 'bulwark-privileged-container')!.spec.validationActions,
    ).toEqual(['Warn']);
  });

  it.each([
    [['exemptions.images={registry.k8s.io/*}'], /exemptions.images cannot be rendered by the chart/],
    [['profiles={pss-restricted@v1.29}'], /pins a Pod Security Standards version/],
    [['extraConfig.lists.systemNamespaces={kube-system,platform}'], /extraConfig.lists cannot be rendered by the chart/],
    [['vap.apiVersion=v2'], /apiVersion/],
  ])('refuses what it cannot render (%s)', (sets, message) => {
    const r = render(['vap.enabled=true', ...sets]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('passes helm lint --strict with vap.enabled', () => {
    const r = helm(['lint', chartDir, '--strict', '--set', 'vap.enabled=true', '--set', 'certificates.generate.allowTemplateRender=true']);
    expect(r.stderr + r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});
