import { describe, expect, it } from 'vitest';
import { hostNamespaces } from '../../../policies/defender/host-namespaces.js';
import { container, cronJob, deployment, evaluateWithConfig, GARBAGE, pathsOf, pod, runCheck } from './fixtures.js';

const c = [container('app')];

describe('host-namespaces', () => {
  it.each([
    ['hostNetwork', pod({ hostNetwork: true, containers: c }), ['spec.hostNetwork']],
    ['hostPID', pod({ hostPID: true, containers: c }), ['spec.hostPID']],
    ['hostIPC', pod({ hostIPC: true, containers: c }), ['spec.hostIPC']],
    [
      'all three, one finding each',
      pod({ hostNetwork: true, hostPID: true, hostIPC: true, containers: c }),
      ['spec.hostNetwork', 'spec.hostPID', 'spec.hostIPC'],
    ],
    ['a Deployment template', deployment({ hostPID: true, containers: c }), ['spec.template.spec.hostPID']],
    ['a CronJob template', cronJob({ hostNetwork: true, containers: c }), ['spec.jobTemplate.spec.template.spec.hostNetwork']],
  ])('fires on %s', (_name, obj, paths) => {
    expect(pathsOf(hostNamespaces, obj)).toEqual(paths);
  });

  it.each([
    ['all false', pod({ hostNetwork: false, hostPID: false, hostIPC: false, containers: c })],
    ['absent', pod({ containers: c })],
    ['strings "true"', pod({ hostNetwork: 'true', hostPID: 'yes', hostIPC: 1, containers: c })],
    ['shareProcessNamespace (pod-internal, not the host)', pod({ shareProcessNamespace: true, containers: c })],
    ['hostNetwork on a container (not a container field)', pod({ containers: [container('a', { hostNetwork: true })] })],
  ])('does not fire when %s', (_name, obj) => {
    expect(pathsOf(hostNamespaces, obj)).toEqual([]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j', (g) => {
    expect(() => runCheck(hostNamespaces, { kind: 'Pod', spec: g })).not.toThrow();
    expect(() => runCheck(hostNamespaces, { kind: 'Deployment', spec: { template: g } })).not.toThrow();
    expect(() => runCheck(hostNamespaces, { kind: 'CronJob', metadata: g, spec: { jobTemplate: { spec: g } } })).not.toThrow();
  });

  it('names the object and the field', () => {
    const [f] = runCheck(hostNamespaces, deployment({ hostNetwork: true, containers: c }, 'ingress'));
    expect(f).toEqual({
      policy: 'host-namespaces',
      severity: 'high',
      message: 'Deployment "ingress" must not set hostNetwork=true: the pod would share the node\'s network namespace',
      path: 'spec.template.spec.hostNetwork',
    });
  });

  it('is a pod-level finding: image exemptions do not drop it', () => {
    const obj = pod({ hostPID: true, containers: [container('a', {}, 'registry.k8s.io/x:1')] });
    expect(evaluateWithConfig('host-namespaces', obj)).toHaveLength(1);
    expect(evaluateWithConfig('host-namespaces', obj, {}, (cfg) => (cfg.exemptions.images = ['*']))).toHaveLength(1);
  });
});
