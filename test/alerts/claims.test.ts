// claimKeysOf and withoutClaimed: which occurrences an alert claims, and the bounds on what a
// sender chooses (an audit ID or review uid is the sender's field).
import { describe, expect, it } from 'vitest';
import { claimKeysOf, MAX_CLAIM_KEY, withoutClaimed } from '../../alerts/store.js';
import { makeAlert } from './support.js';

describe('occurrence claims', () => {
  it('claim each audit ID with the type and the trust of the source; an admission review by its uid; nothing else', () => {
    const audit = makeAlert({ type: 'exec-into-pod', source: 'audit', auditIDs: ['a1', 'a2'] });
    expect(claimKeysOf(audit)).toEqual(['a:v:exec-into-pod:a1', 'a:v:exec-into-pod:a2']);
    expect(claimKeysOf({ ...audit, verified: false })).toEqual(['a:u:exec-into-pod:a1', 'a:u:exec-into-pod:a2']);
    expect(claimKeysOf(makeAlert({ evidence: { uid: 'r-1' } }))).toEqual(['r:v:privileged-container:r-1']);
    expect(claimKeysOf(makeAlert({ evidence: { uid: 42 } }))).toEqual([]);
    expect(claimKeysOf(makeAlert({ source: 'background', evidence: { uid: 'r-1' } }))).toEqual([]);
  });

  it('claims no key longer than MAX_CLAIM_KEY: an overlong audit ID is stored, not claimed', () => {
    const long = 'x'.repeat(MAX_CLAIM_KEY);
    expect(claimKeysOf(makeAlert({ source: 'audit', auditIDs: [long, 'ok'] }))).toEqual(['a:v:privileged-container:ok']);
  });

  it('withoutClaimed keeps the unclaimed occurrences and lowers the count by the claimed ones', () => {
    const merged = makeAlert({ source: 'audit', auditIDs: ['a1', 'a2', 'a3'], count: 3 });
    const left = withoutClaimed(merged, new Set(['a:v:privileged-container:a2']));
    expect(left?.auditIDs).toEqual(['a2']);
    expect(left?.count).toBe(1);
    expect(withoutClaimed(merged, new Set(claimKeysOf(merged)))).toBe(merged);
    // None of its occurrences claimed by this write: it stands for nothing new.
    expect(withoutClaimed(merged, new Set())).toBeUndefined();
    // An alert that claims nothing (no audit ID, no review uid) always stands.
    const plain = makeAlert({ source: 'admission' });
    expect(withoutClaimed(plain, new Set())).toBe(plain);
  });
});
