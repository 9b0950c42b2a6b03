// newAlert and fingerprintOf: the defaults, the key order and the fingerprint every stored alert
// already carries (sha256 of type, namespace, group, kind, name, user — and the cluster — first
// 32 hex digits), whatever the memo in front of the hash remembers.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, newAlert, shortHash, type AlertInput } from '../../alerts/model.js';

const input: AlertInput = {
  type: 'exec-into-pod',
  title: 'Exec into a pod',
  severity: 'medium',
  source: 'audit',
  firstSeen: '2024-06-01T10:00:00.000000Z',
  namespace: 'shop',
  resource: { group: '', version: 'v1', kind: 'Pod', name: 'web-0' },
  user: { username: 'alice@example.com', groups: ['developers'] },
  message: "alice@example.com exec'd into pod shop/web-0",
  tactics: ['Execution'],
  remediation: 'Revoke pods/exec.',
};

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

describe('newAlert', () => {
  it('fills the defaults in the order and with the values a spread of the input over them gives', () => {
    const a = newAlert(input);
    const spread = {
      id: a.id,
      count: 1,
      auditIDs: [],
      sourceIPs: [],
      userAgent: '',
      evidence: {},
      lastSeen: input.firstSeen,
      status: 'active',
      history: [],
      fingerprint: a.fingerprint,
      ...input,
    };
    expect(JSON.stringify(a)).toBe(JSON.stringify(spread));
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(newAlert(input).id).not.toBe(a.id);
  });

  it('takes every field the input sets, the optional ones too, and an explicit undefined as given', () => {
    const a = newAlert({
      ...input,
      count: 3,
      auditIDs: ['x'],
      sourceIPs: ['10.0.0.1'],
      userAgent: 'kubectl',
      evidence: { verb: 'create' },
      lastSeen: '2024-06-01T10:05:00Z',
      cluster: 'prod-eu-1',
      verified: false,
      timeClamped: { firstSeen: '2099-01-01T00:00:00Z' },
      laterEvidence: [{ at: '2024-06-01T10:05:00Z', evidence: {} }],
    });
    expect(a).toMatchObject({
      count: 3,
      auditIDs: ['x'],
      sourceIPs: ['10.0.0.1'],
      userAgent: 'kubectl',
      lastSeen: '2024-06-01T10:05:00Z',
      cluster: 'prod-eu-1',
      verified: false,
    });
    expect(a.timeClamped).toEqual({ firstSeen: '2099-01-01T00:00:00Z' });
    expect(a.laterEvidence).toHaveLength(1);
    expect(a.fingerprint).toBe(sha(['exec-into-pod', 'shop', '', 'Pod', 'web-0', 'alice@example.com', 'prod-eu-1'].join('\u0000')));
    const b = newAlert({ ...input, lastSeen: undefined } as AlertInput);
    expect('lastSeen' in b && b.lastSeen === undefined).toBe(true);
    expect('cluster' in newAlert(input)).toBe(false);
  });
});

describe('fingerprintOf', () => {
  it('is the first 32 hex digits of the sha256 of the joined key, the same on every call', () => {
    const key = ['exec-into-pod', 'shop', '', 'Pod', 'web-0', 'alice@example.com'].join('\u0000');
    for (let i = 0; i < 3; i++) expect(fingerprintOf(input)).toBe(sha(key));
    // A missing part joins as an empty string, as it always did.
    const partial = { ...input, resource: { ...input.resource, group: undefined as unknown as string } };
    expect(fingerprintOf(partial)).toBe(sha(key));
    expect(fingerprintOf({ ...input, cluster: '' })).toBe(sha(key));
  });

  it('shortHash answers for keys past the memo bound too', () => {
    const long = 'k'.repeat(5000);
    expect(shortHash(long)).toBe(sha(long));
    expect(shortHash(long)).toBe(sha(long));
  });
});
