import { describe, expect, it } from 'vitest';
import { privilegedContainer } from '../../../policies/defender/privileged-container.js';
import { container, cronJob, deployment, evaluateWithConfig, GARBAGE, pathsOf, pod, runCheck } from './fixtures.js';

const priv = { securityContext: { privileged: true } };

describe('privileged-container', () => {
  it.each([
    ['a privileged container in a Pod', pod({ containers: [container('app', priv)] }), ['spec.containers[0].securityContext.privileged']],
    [
      'the second container of a Deployment template',
      deployment({ containers: [container('a'), container('b', priv)] }),
      ['spec.template.spec.containers[1].securityContext.privileged'],
    ],
    [
      'a CronJob container, nested three templates deep',
      cronJob({ containers: [container('x'), container('job', priv)] }),
      ['spec.jobTemplate.spec.template.spec.containers[1].securityContext.privileged'],
    ],
    [
      'an init container',
      pod({ initContainers: [container('setup', priv)], containers: [container('app')] }),
      ['spec.initContainers[0].securityContext.privileged'],
    ],
    [
      'an ephemeral container',
      pod({ containers: [container('app')], ephemeralContainers: [container('debug', priv)] }),
      ['spec.ephemeralContainers[0].securityContext.privileged'],
    ],
    [
      'the pre-1.22 EphemeralContainers kind',
      { apiVersion: 'v1', kind: 'EphemeralContainers', metadata: { name: 'web', namespace: 'default' }, ephemeralContainers: [container('debug', priv)] },
      ['ephemeralContainers[0].securityContext.privileged'],
    ],
    [
      'every privileged container of every list, each once',
      pod({ initContainers: [container('i', priv)], containers: [container('a', priv), container('b', priv)] }),
      ['spec.containers[0].securityContext.privileged', 'spec.containers[1].securityContext.privileged', 'spec.initContainers[0].securityContext.privileged'],
    ],
  ])('fires on %s', (_name, obj, paths) => {
    expect(pathsOf(privilegedContainer, obj)).toEqual(paths);
  });

  it.each([
    ['privileged: false', pod({ containers: [container('app', { securityContext: { privileged: false } })] })],
    ['the string "true" (not a boolean: the API server rejects it)', pod({ containers: [container('app', { securityContext: { privileged: 'true' } })] })],
    ['no securityContext', pod({ containers: [container('app')] })],
    ['securityContext: null', pod({ containers: [container('app', { securityContext: null })] })],
    ['a pod-level securityContext only', pod({ securityContext: { privileged: true }, containers: [container('app')] })],
    ['allowPrivilegeEscalation (a different field)', pod({ containers: [container('app', { securityContext: { allowPrivilegeEscalation: true } })] })],
    ['a pod without spec', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }],
  ])('does not fire on %s', (_name, obj) => {
    expect(pathsOf(privilegedContainer, obj)).toEqual([]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j in containers, container and securityContext', (g) => {
    expect(() => runCheck(privilegedContainer, pod({ containers: g }))).not.toThrow();
    expect(() => runCheck(privilegedContainer, pod({ containers: [g], initContainers: g }))).not.toThrow();
    expect(() => runCheck(privilegedContainer, pod({ containers: [container('a', { securityContext: g })] }))).not.toThrow();
    expect(() => runCheck(privilegedContainer, { kind: 'Pod', spec: g })).not.toThrow();
  });

  it('names the container and carries its image', () => {
    const [f] = runCheck(privilegedContainer, pod({ initContainers: [container('setup', priv, 'busybox:1.36')] }));
    expect(f).toEqual({
      policy: 'privileged-container',
      severity: 'high',
      message: 'init container "setup" must not set securityContext.privileged=true',
      path: 'spec.initContainers[0].securityContext.privileged',
      image: 'busybox:1.36',
    });
  });

  it('names an unnamed container by its position', () => {
    const [f] = runCheck(privilegedContainer, pod({ containers: [{ image: 'x', securityContext: { privileged: true } }] }));
    expect(f!.message).toBe('container "containers[0]" must not set securityContext.privileged=true');
  });

  it('fires through compileConfig + evaluateSubject, and image exemptions drop it', () => {
    const obj = deployment({ containers: [container('agent', priv, 'registry.k8s.io/kube-proxy:v1.30.0')] });
    expect(evaluateWithConfig('privileged-container', obj)).toHaveLength(1);
    expect(evaluateWithConfig('privileged-container', obj, {}, (c) => (c.exemptions.images = ['registry.k8s.io/*']))).toEqual([]);
  });
});
