// Rule configuration shared by every audit rule: audit.disabled.
import { describe, expect, it } from 'vitest';
import { auditEvent } from './helpers.js';
import { typesOf } from './rules/cases.js';

describe('audit rules configuration', () => {
  it('audit.disabled switches a rule off', () => {
    expect(typesOf(auditEvent({ userAgent: 'kube-hunter' }), { disabled: ['pentest-tool'] })).toEqual([]);
  });
});
