// postureOf: the console's posture from PolicyReports and an enforce-mode judgement.
import { describe, expect, it } from 'vitest';
import { MAX_POSTURE_RESULTS } from '../../alerts/posture.js';
import { buildPolicyReports, type ReportSubject } from '../../background/policyreport.js';
import { postureOf } from '../../background/posture.js';
import type { JudgedObject } from '../../background/judge.js';

const subject = (namespace: string, name: string, findings: ReportSubject['findings']): ReportSubject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  namespace,
  name,
  uid: `uid-${name}`,
  findings,
});
const judged = (namespace: string, name: string, outcome: JudgedObject['outcome'], policies: string[]): JudgedObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  namespace,
  name,
  uid: `uid-${name}`,
  outcome,
  findings: policies.map((policy) => ({ policy, severity: 'high', message: 'm', path: 'spec', action: 'enforce' }) as JudgedObject['findings'][number]),
  errors: [],
});

describe('postureOf', () => {
  it('counts per namespace and per policy, lists failing and warning results, and what enforce would deny', () => {
    const { reports } = buildPolicyReports([
      subject('shop', 'a', [
        { policy: 'privileged-container', severity: 'high', message: 'privileged', action: 'enforce' },
        { policy: 'host-network', severity: 'medium', message: 'host network', action: 'warn' },
      ]),
      subject('shop', 'b', [{ policy: 'privileged-container', severity: 'high', message: 'privileged', action: 'audit' }]),
      subject('', 'crb', [{ policy: 'cluster-admin-binding', severity: 'high', message: 'binds cluster-admin', action: 'enforce' }]),
    ]);
    const p = postureOf(
      reports,
      [judged('shop', 'a', 'denied', ['privileged-container']), judged('shop', 'c', 'allowed', []), judged('dev', 'd', 'denied', ['host-pid'])],
      new Map([['shop', 'warn']]),
      new Date('2026-12-04T10:00:00Z'),
    );
    expect(p.evaluatedAt).toBe('2026-12-04T10:00:00.000Z');
    expect(p.namespaces).toEqual([
      { namespace: '', fail: 1, warn: 0, error: 0, wouldDeny: 0 },
      { namespace: 'dev', fail: 0, warn: 0, error: 0, wouldDeny: 1 },
      { namespace: 'shop', mode: 'warn', fail: 2, warn: 1, error: 0, wouldDeny: 1 },
    ]);
    expect(p.policies.map((x) => [x.policy, x.fail, x.warn])).toEqual([
      ['privileged-container', 2, 0],
      ['cluster-admin-binding', 1, 0],
      ['host-network', 0, 1],
    ]);
    expect(p.results).toHaveLength(4);
    expect(p.results[0]).toMatchObject({ namespace: '', kind: 'Pod', name: 'crb', policy: 'cluster-admin-binding', result: 'fail', severity: 'high' });
    expect(p.wouldDeny).toEqual([
      { namespace: 'shop', kind: 'Pod', name: 'a', policies: ['privileged-container'] },
      { namespace: 'dev', kind: 'Pod', name: 'd', policies: ['host-pid'] },
    ]);
  });

  it('lists at most MAX_POSTURE_RESULTS results and counts the rest, including what a report dropped', () => {
    const many = Array.from({ length: MAX_POSTURE_RESULTS + 7 }, (_, i) =>
      subject(`ns-${i % 3}`, `p${i}`, [{ policy: 'privileged-container', severity: 'high', message: 'x', action: 'enforce' }]),
    );
    const { reports } = buildPolicyReports(many, { maxResultsPerReport: MAX_POSTURE_RESULTS });
    const p = postureOf(reports, [], new Map(), new Date());
    expect(p.results).toHaveLength(MAX_POSTURE_RESULTS);
    expect(p.omitted).toBe(7);
    expect(p.namespaces.reduce((n, x) => n + x.fail, 0)).toBe(MAX_POSTURE_RESULTS + 7);
    expect(p.policies[0]!.fail).toBe(MAX_POSTURE_RESULTS + 7);
  });
});
