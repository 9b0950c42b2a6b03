// The generated objects are valid admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and
// ValidatingAdmissionPolicyBinding objects: they validate against Kubernetes' own OpenAPI schema
// (test/fixtures/kubernetes, strictly: unknown fields rejected as `kubectl --validate=strict` does), and
// against the API server's further validation rules that the schema does not carry.
import { describe, expect, it } from 'vitest';
import { defaultConfig, type BulwarkConfig } from '../../config/load.js';
import { compileConfig } from '../../policies/config.js';
import { generateVap } from '../../vap/generate.js';
import { renderExplain } from '../../vap/explain.js';
import { apiServerProblems, validateBinding, validatePolicy } from './k8s-schema.js';

type Obj = Record<string, any>;

function check(config: BulwarkConfig, apiVersion: 'v1' | 'v1beta1') {
  const result = generateVap(compileConfig(config), apiVersion);
  const policies = result.objects.filter((o) => o.kind === 'ValidatingAdmissionPolicy');
  const bindings = result.objects.filter((o) => o.kind === 'ValidatingAdmissionPolicyBinding');
  for (const o of result.objects) {
    expect(o.apiVersion).toBe(`admissionregistration.k8s.io/${apiVersion}`);
    const validate = o.kind === 'ValidatingAdmissionPolicy' ? validatePolicy : validateBinding;
    expect(validate(o), `${o.metadata.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(apiServerProblems(o), String(o.metadata.name)).toEqual([]);
  }
  // every binding names a policy that exists
  const names = new Set(policies.map((p) => p.metadata.name));
  for (const b of bindings) expect(names.has(b.spec.policyName)).toBe(true);
  return { result, policies, bindings };
}

describe('generated objects against the Kubernetes schema', () => {
  it('the schema rejects what it should (a sanity check of the validator)', () => {
    expect(
      validatePolicy({ apiVersion: 'x', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'a' }, spec: { validations: [{ message: 'no expression' }] } }),
    ).toBe(false);
    expect(validateBinding({ kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'a' }, spec: { policyName: 'a', validationActions: 'Deny' } })).toBe(
      false,
    );
    expect(validatePolicy({ kind: 'ValidatingAdmissionPolicy', metadata: { name: 'a' }, spec: { validation: [] } })).toBe(false);
  });

  it('every profile, v1: policies and bindings validate; one policy per check, named bulwark-<id>, four bindings each', () => {
    const { result, policies, bindings } = check({ ...defaultConfig(), profiles: ['defender', 'pss-restricted', 'pss-baseline'] }, 'v1');
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(result.compiled.map((c) => `bulwark-${c.id}`).sort());
    expect(bindings.length).toBe(policies.length * 4);
  });

  it('v1beta1 for Kubernetes 1.28–1.29, with exemptions and per-policy actions', () => {
    const config: BulwarkConfig = {
      ...defaultConfig(),
      profiles: ['defender', 'pss-baseline'],
      defaultAction: 'warn',
      actions: { 'kube-system-workload': 'audit', 'privileged-container': 'enforce', 'pss-sysctls': 'off' },
      exemptions: { namespaces: ['bulwark-system'], usernames: ['ci'], groups: ['breakglass'], images: ['registry.k8s.io/*'] },
    };
    const { policies, bindings } = check(config, 'v1beta1');
    expect(policies.some((p) => p.metadata.name === 'bulwark-pss-sysctls')).toBe(false);
    const actions = (name: string) => bindings.find((b) => b.metadata.name === name)!.spec.validationActions;
    expect(actions('bulwark-kube-system-workload')).toEqual(['Audit']);
    expect(actions('bulwark-privileged-container')).toEqual(['Deny']);
    expect(actions('bulwark-host-namespaces')).toEqual(['Warn']);
    expect(actions('bulwark-host-namespaces-mode-enforce')).toEqual(['Deny']);
    expect(actions('bulwark-host-namespaces-mode-audit')).toEqual(['Audit']);
    const mode = bindings.find((b) => b.metadata.name === 'bulwark-host-namespaces-mode-warn')!;
    expect(mode.spec.matchResources.namespaceSelector).toEqual({ matchLabels: { 'bulwark.io/mode': 'warn' } });
    expect(mode.spec.matchResources.resourceRules.every((r: Obj) => r.scope === 'Namespaced')).toBe(true);
    const configured = bindings.find((b) => b.metadata.name === 'bulwark-host-namespaces')!;
    expect(configured.spec.matchResources.namespaceSelector.matchExpressions).toEqual([
      { key: 'bulwark.io/mode', operator: 'NotIn', values: ['enforce', 'warn', 'audit'] },
    ]);
    const conditions = policies[0]!.spec.matchConditions.map((c: Obj) => c.name);
    expect(conditions).toEqual(['bulwark-judged-change', 'bulwark-exempt-namespaces', 'bulwark-exempt-usernames', 'bulwark-exempt-groups']);
  });

  it('--explain names the pinned version, the coverage count, the costs under the limits, and what is not compiled', () => {
    const result = generateVap(compileConfig({ ...defaultConfig(), profiles: ['defender', 'pss-restricted@v1.29'] }));
    const text = renderExplain(result);
    expect(text).toContain('Pod Security Standards v1.37');
    expect(text).toMatch(new RegExp(`^${result.compiled.length} of ${result.total} checks compiled$`, 'm'));
    expect(result.compiled.length).toBeLessThan(result.total);
    // v1.29 pins sysctls to its v1.29 list: that check is listed, with the reason, not compiled
    expect(result.notCompiled.map((n) => n.id)).toContain('pss-sysctls');
    expect(text).toMatch(/pss-sysctls: the profile is pinned to v1\.29, where this check uses its v1\.29 rules/);
    for (const c of result.compiled) {
      expect(c.totalCost).toBeLessThanOrEqual(10_000_000);
      for (const e of c.costs) expect(e.cost).toBeLessThanOrEqual(1_000_000);
    }
  });
});
