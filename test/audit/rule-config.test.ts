// Rule configuration shared by every audit rule: audit.disabled.
import { describe, expect, it } from 'vitest';
import { compileAuditSettings, defaultAuditSettings } from '../../audit/config.js';
import { auditEvent } from './helpers.js';
import { typesOf } from './rules/cases.js';

describe('audit rules configuration', () => {
  it('audit.disabled switches a rule off', () => {
    expect(typesOf(auditEvent({ userAgent: 'kube-hunter' }), { disabled: ['pentest-tool'] })).toEqual([]);
  });
});

describe('identity globs (controlPlaneIdentities, webhookAdmins) with the per-name cache', () => {
  it('answer as the globs say for 10,000 names seen twice, past the cache size, long names included', () => {
    const s = compileAuditSettings({ ...defaultAuditSettings(), controlPlaneIdentities: ['system:node:*', 'system:apiserver', 'ops-?'] });
    const expected = (n: string) => n === 'system:apiserver' || /^system:node:/.test(n) || /^ops-.$/.test(n);
    const names = Array.from({ length: 10_000 }, (_, i) =>
      i % 5 === 0 ? `system:node:w${i}` : i % 5 === 1 ? `ops-${i % 10}` : i % 5 === 2 ? 'x'.repeat(2000 + i) : i % 5 === 3 ? 'system:apiserver' : `alice${i}`,
    );
    for (const n of [...names, ...names.reverse()]) expect(s.isControlPlane(n), n.slice(0, 40)).toBe(expected(n));
    expect(s.isControlPlane('')).toBe(false);
  });
});
