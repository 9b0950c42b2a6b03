// A defender check and a Pod Security Standards check on the same field give one line naming both IDs.
import { describe, expect, it } from 'vitest';
import { foldSameField, findingLine } from '../../policies/same-field.js';
import type { Finding } from '../../policies/types.js';
import { decide } from '../../webhook/decide.js';
import { limitLines, WARNING_LIMITS } from '../../webhook/clip.js';
import { compiledWith, privilegedSpec, review, withPodSpec } from '../webhook/support.js';

const f = (policy: string, path: string, severity: Finding['severity'] = 'high', message = `${policy} says so`): Finding => ({
  policy,
  path,
  severity,
  message,
});

describe('foldSameField', () => {
  it('folds a defender and a PSS finding on one path into the first, keeping order', () => {
    const out = foldSameField([f('privileged-container', 'a'), f('pss-run-as-non-root', 'b', 'medium'), f('pss-privileged', 'a')]);
    expect(out.map((x) => [x.policy, x.also])).toEqual([
      ['privileged-container', ['pss-privileged']],
      ['pss-run-as-non-root', undefined],
    ]);
    expect(findingLine(out[0]!)).toBe('[privileged-container] privileged-container says so (also pss-privileged)');
  });

  it('takes the highest severity of the group and does not change its input', () => {
    const input = [f('pss-host-namespaces', 'spec.hostPID', 'medium'), f('host-namespaces', 'spec.hostPID', 'high')];
    const out = foldSameField(input);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ policy: 'pss-host-namespaces', severity: 'high', also: ['host-namespaces'] });
    expect(input[0]).not.toHaveProperty('also');
    expect(input[0]!.severity).toBe('medium');
  });

  it.each([
    ['two defender checks', [f('a-check', 'p'), f('b-check', 'p')]],
    ['two PSS checks', [f('pss-a', 'p'), f('pss-b', 'p')]],
    ['no path', [f('privileged-container', ''), f('pss-privileged', '')]],
    ['different paths', [f('privileged-container', 'p'), f('pss-privileged', 'q')]],
    ['one policy twice', [f('privileged-container', 'p'), f('privileged-container', 'p')]],
  ])('keeps %s apart', (_name, findings) => {
    expect(foldSameField(findings)).toHaveLength(findings.length);
  });

  it('folds at most one ID of the other family into a line', () => {
    const out = foldSameField([f('privileged-container', 'p'), f('pss-a', 'p'), f('pss-b', 'p')]);
    expect(out.map((x) => [x.policy, x.also])).toEqual([
      ['privileged-container', ['pss-a']],
      ['pss-b', undefined],
    ]);
  });
});

describe('admission with defender and pss-restricted', () => {
  it('denies a privileged hostPID pod with one line per field, each naming both IDs', () => {
    const compiled = compiledWith({ profiles: ['defender', 'pss-restricted'] });
    const spec = { ...privilegedSpec(), hostPID: true };
    const decision = decide({ request: review(withPodSpec('Pod', spec)).request, compiled });
    const lines = decision.response?.status?.message?.split('\n') ?? [];
    expect(lines.filter((l) => l.includes('privileged=true'))).toEqual([expect.stringMatching(/^\[privileged-container\] .*\(also pss-privileged\)$/)]);
    expect(lines.filter((l) => l.includes('hostPID=true'))).toEqual([expect.stringMatching(/^\[host-namespaces\] .*\(also pss-host-namespaces\)$/)]);
    // Per-policy data is kept for metrics, alerts and reports.
    expect(decision.findings.map((x) => x.policy)).toEqual(
      expect.arrayContaining(['privileged-container', 'pss-privileged', 'host-namespaces', 'pss-host-namespaces']),
    );
  });

  it('shows the strongest action first: an enforced PSS ID leads, a warned defender ID follows', () => {
    const compiled = compiledWith({ profiles: ['defender', 'pss-baseline'], actions: { 'privileged-container': 'warn' } });
    const decision = decide({ request: review(withPodSpec('Pod', privilegedSpec())).request, compiled });
    expect(decision.response?.status?.message).toMatch(/^\[pss-privileged\] .*\(also privileged-container\)$/m);
    expect(limitLines(decision.findings, WARNING_LIMITS).filter((l) => l.includes('privileged=true'))).toHaveLength(1);
  });
});
