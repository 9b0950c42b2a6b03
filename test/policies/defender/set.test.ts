import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFENDER_CHECKS } from '../../../policies/defender/index.js';
import { isSeverity } from '../../../core/severity.js';
import { container, evaluateWithConfig, GARBAGE, subjectOf } from './fixtures.js';
import { compileConfig } from '../../../policies/config.js';
import { defaultConfig } from '../../../config/load.js';
import { evaluateSubject } from '../../../policies/evaluate.js';

const IDS = [
  'privileged-container',
  'sensitive-host-mount',
  'host-namespaces',
  'dangerous-capabilities',
  'kube-system-workload',
  'crypto-mining-image',
  'high-privilege-role',
  'cluster-admin-binding',
  'anonymous-binding',
  'exposed-dashboard',
  'exposed-service',
];

describe('the defender set', () => {
  it('registers the contract IDs in order', () => {
    expect(DEFENDER_CHECKS.map((c) => c.id)).toEqual(IDS);
  });

  it.each(DEFENDER_CHECKS.map((c) => [c.id, c]))('%s has complete metadata and a file that says what it flags', (id, check) => {
    expect(isSeverity(check.severity)).toBe(true);
    expect(check.title).not.toBe('');
    expect(check.remediation).not.toBe('');
    expect(check.tactics.length).toBeGreaterThan(0);
    expect(check.appliesTo.length).toBeGreaterThan(0);
    const source = readFileSync(new URL(`../../../policies/defender/${id}.ts`, import.meta.url), 'utf8');
    expect(source.startsWith(`// ${id} — flags `)).toBe(true);
  });

  it.each([['kube-system-workload', 'medium'], ...IDS.filter((id) => id !== 'kube-system-workload').map((id) => [id, 'high'])])('%s is %s', (id, severity) => {
    expect(DEFENDER_CHECKS.find((c) => c.id === id)!.severity).toBe(severity);
  });

  it('image exemptions drop container findings but keep pod-level ones', () => {
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'node-agent', namespace: 'monitoring' },
      spec: {
        template: {
          spec: {
            hostPID: true,
            containers: [
              container(
                'agent',
                { securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } }, volumeMounts: [{ name: 'root', mountPath: '/host' }] },
                'registry.k8s.io/agent:1',
              ),
              container('sidecar', { securityContext: { privileged: true } }, 'docker.io/acme/sidecar:2'),
            ],
            volumes: [{ name: 'root', hostPath: { path: '/' } }],
          },
        },
      },
    };
    const all = evaluateSubject(subjectOf(obj), compileConfig(defaultConfig())).findings;
    expect(all.map((f) => f.path)).toEqual([
      'spec.template.spec.containers[0].securityContext.privileged',
      'spec.template.spec.containers[1].securityContext.privileged',
      'spec.template.spec.volumes[0].hostPath.path',
      'spec.template.spec.hostPID',
      'spec.template.spec.containers[0].securityContext.capabilities.add[0]',
    ]);
    const config = defaultConfig();
    config.exemptions.images = ['registry.k8s.io/*'];
    const kept = evaluateSubject(subjectOf(obj), compileConfig(config)).findings;
    expect(kept.map((f) => f.path)).toEqual([
      'spec.template.spec.containers[1].securityContext.privileged',
      'spec.template.spec.volumes[0].hostPath.path',
      'spec.template.spec.hostPID',
    ]);
  });

  it('turning a policy off removes only its findings', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { hostNetwork: true, containers: [container('a', { securityContext: { privileged: true } })] },
    };
    expect(evaluateWithConfig('privileged-container', obj, {}, (c) => (c.actions['privileged-container'] = 'off'))).toEqual([]);
    expect(evaluateWithConfig('host-namespaces', obj, {}, (c) => (c.actions['privileged-container'] = 'off'))).toHaveLength(1);
  });

  it.each(GARBAGE.map((g) => [g]))('no check throws on garbage %j anywhere in any subject kind', (g) => {
    const compiled = compileConfig(defaultConfig());
    const kinds = ['Pod', 'Deployment', 'CronJob', 'EphemeralContainers', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'Service', 'Ingress'];
    for (const kind of kinds) {
      for (const obj of [
        { kind, metadata: g, spec: g, rules: g, roleRef: g, subjects: g, ephemeralContainers: g },
        {
          kind,
          metadata: { name: g, namespace: 'kube-system' },
          spec: { template: { spec: g }, jobTemplate: g, containers: [g], volumes: [g], selector: g, rules: [g] },
          rules: [g],
          subjects: [g],
        },
      ]) {
        const { errors } = evaluateSubject(subjectOf(obj), compiled, { user: { username: 'alice', groups: [] } });
        expect(errors).toEqual([]);
      }
    }
  });
});
