// Findings the API server's ValidatingAdmissionPolicies record in the audit log (the Audit action's
// `validation.policy.admission.k8s.io/validation_failure` annotation) become alerts of the policy ID,
// source audit: what was judged while the webhook was down still alerts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../audit/analyser.js';
import { VAP_FAILURE_ANNOTATION } from '../../audit/vap.js';
import { defaultConfig } from '../../config/load.js';
import { compileConfig } from '../../policies/config.js';
import { generateVap } from '../../vap/generate.js';
import { auditEvent, lines, runCli } from '../audit/helpers.js';
import { evaluatePolicy } from './harness.js';

type Obj = Record<string, any>;

const pod: Obj = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'debug', namespace: 'team-a' },
  spec: { hostPID: true, containers: [{ name: 'sh', image: 'busybox:1.36', securityContext: { privileged: true } }] },
};

/** The annotation value as the API server writes it for the Audit action (an entry per failed validation). */
function annotationFor(object: Obj, binding: (policy: string) => string): string {
  const result = generateVap(compileConfig({ ...defaultConfig(), profiles: ['defender', 'pss-baseline'] }));
  const entries: Obj[] = [];
  for (const policy of result.objects.filter((o) => o.kind === 'ValidatingAdmissionPolicy')) {
    const verdict = evaluatePolicy(policy, object, { username: 'alice', groups: ['system:authenticated'], namespace: 'team-a' });
    verdict.messages.forEach((message) => {
      entries.push({ expressionIndex: 0, message, validationActions: ['Audit'], binding: binding(policy.metadata.name), policy: policy.metadata.name });
    });
  }
  return JSON.stringify(entries);
}

/** A Metadata-level audit event of a pod create the webhook never saw (it was down): no requestObject. */
const podCreate = (annotation: string, o: Obj = {}) =>
  auditEvent({
    verb: 'create',
    requestURI: '/api/v1/namespaces/team-a/pods?fieldManager=kubectl-run',
    objectRef: { resource: 'pods', namespace: 'team-a', name: 'debug', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    annotations: {
      'authorization.k8s.io/decision': 'allow',
      'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "edit/team-a" of ClusterRole "edit" to User "alice@example.com"',
      [VAP_FAILURE_ANNOTATION]: annotation,
    },
    ...o,
  });

const analyser = () => new AuditAnalyser({ config: defaultConfig() });

describe('VAP audit annotation → alerts', () => {
  it('each bulwark-* policy that failed becomes one alert of its policy ID, source audit, with the VAP message', () => {
    const alerts = analyser().analyse(podCreate(annotationFor(pod, (p) => `${p}-mode-audit`)));
    const types = alerts.map((a) => a.type).sort();
    expect(types).toEqual(['host-namespaces', 'privileged-container', 'pss-host-namespaces', 'pss-privileged']);
    const privileged = alerts.find((a) => a.type === 'pss-privileged')!;
    expect(privileged.source).toBe('audit');
    expect(privileged.severity).toBe('high');
    expect(privileged.title).toBe('Privileged container');
    expect(privileged.namespace).toBe('team-a');
    expect(privileged.resource).toMatchObject({ kind: 'Pod', name: 'debug', version: 'v1' });
    expect(privileged.user.username).toBe('alice@example.com');
    expect(privileged.message).toContain('container "sh" must not set securityContext.privileged=true');
    expect(privileged.message).not.toContain('[pss-privileged]');
    expect(privileged.evidence).toMatchObject({
      validatingAdmissionPolicy: 'bulwark-pss-privileged',
      findings: [{ binding: 'bulwark-pss-privileged-mode-audit', expressionIndex: 0, validationActions: ['Audit'] }],
    });
  });

  it('ignores other policies, unknown bulwark-* names, malformed and oversized values', () => {
    const other = JSON.stringify([{ expressionIndex: 0, message: 'no', validationActions: ['Audit'], binding: 'b', policy: 'acme-require-labels' }]);
    const unknown = JSON.stringify([{ expressionIndex: 0, message: '[x] no', validationActions: ['Audit'], binding: 'b', policy: 'bulwark-not-a-policy' }]);
    for (const value of [other, unknown, '[{"policy": "bulwark-pss-privileged"', '{"policy":"bulwark-pss-privileged"}', 'x'.repeat(300 * 1024) + 'bulwark-']) {
      expect(analyser().analyse(podCreate(value))).toEqual([]);
    }
  });

  it('no duplicate when the object check already alerted for the same policy on the same event', () => {
    const alerts = analyser().analyse(
      podCreate(
        annotationFor(pod, (p) => p),
        { level: 'RequestResponse', requestObject: pod },
      ),
    );
    expect(alerts.filter((a) => a.type === 'privileged-container')).toHaveLength(1);
    expect(alerts.filter((a) => a.type === 'pss-privileged')).toHaveLength(1);
  });

  it("skips control-plane writes (a workload's pods) and dry runs, as the object checks do", () => {
    const controller = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] };
    expect(
      analyser().analyse(
        podCreate(
          annotationFor(pod, (p) => p),
          { user: controller },
        ),
      ),
    ).toEqual([]);
    expect(
      analyser().analyse(
        podCreate(
          annotationFor(pod, (p) => p),
          { requestURI: '/api/v1/namespaces/team-a/pods?dryRun=All' },
        ),
      ),
    ).toEqual([]);
  });

  it('`bulwark audit scan` prints them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-vap-audit-'));
    try {
      const file = join(dir, 'audit.log');
      writeFileSync(file, lines([podCreate(annotationFor(pod, (p) => `${p}-mode-audit`))]));
      const r = await runCli(['--format', 'ndjson', file]);
      expect(r.code).toBe(0);
      const alerts = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(alerts.map((a) => a.type).sort()).toEqual(['host-namespaces', 'privileged-container', 'pss-host-namespaces', 'pss-privileged']);
      expect(alerts.every((a) => a.source === 'audit')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
