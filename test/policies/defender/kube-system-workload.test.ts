import { describe, expect, it } from 'vitest';
import { kubeSystemWorkload } from '../../../policies/defender/kube-system-workload.js';
import { container, cronJob, deployment, evaluateWithConfig, GARBAGE, pathsOf, pod, runCheck } from './fixtures.js';

const c = [container('app')];
const user = (username: string) => ({ user: { username, groups: ['system:authenticated'] } });

describe('kube-system-workload', () => {
  it.each([
    ['a human creates a Deployment', deployment({ containers: c }, 'backdoor', 'kube-system'), user('alice')],
    ['a human creates a Pod', pod({ containers: c }, 'p', 'kube-system'), user('alice@example.com')],
    ['a CronJob in an offline scan (no user)', cronJob({ containers: c }, 'job', 'kube-system'), {}],
    ['a user whose name only contains system:', pod({ containers: c }, 'p', 'kube-system'), user('evil-system:admin')],
    ['a user named System: (case matters)', pod({ containers: c }, 'p', 'kube-system'), user('System:admin')],
    ['an empty username', pod({ containers: c }, 'p', 'kube-system'), user('')],
  ])('fires when %s', (_name, obj, ctx) => {
    expect(pathsOf(kubeSystemWorkload, obj, ctx)).toEqual(['metadata.namespace']);
  });

  it.each([
    ['a system component creates it', deployment({ containers: c }, 'coredns', 'kube-system'), user('system:serviceaccount:kube-system:deployment-controller')],
    ['the controller manager creates it', pod({ containers: c }, 'p', 'kube-system'), user('system:kube-controller-manager')],
    ['the namespace is another one', deployment({ containers: c }, 'web', 'default'), user('alice')],
    ['the namespace only looks like kube-system', deployment({ containers: c }, 'web', 'kube-system-2'), user('alice')],
    ['no namespace in an offline scan', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: c } }, {}],
  ])('does not fire when %s', (_name, obj, ctx) => {
    expect(pathsOf(kubeSystemWorkload, obj, ctx)).toEqual([]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j in metadata and user', (g) => {
    expect(() => runCheck(kubeSystemWorkload, { kind: 'Pod', metadata: g, spec: g })).not.toThrow();
    expect(() => runCheck(kubeSystemWorkload, pod({}, 'p', 'kube-system'), { user: { username: g as string, groups: [] } })).not.toThrow();
  });

  it('names the object and the user', () => {
    expect(runCheck(kubeSystemWorkload, deployment({ containers: c }, 'backdoor', 'kube-system'), user('alice'))).toEqual([
      {
        policy: 'kube-system-workload',
        severity: 'medium',
        message: 'Deployment "backdoor" is submitted to namespace kube-system by user "alice", which is not a system: identity',
        path: 'metadata.namespace',
      },
    ]);
    expect(runCheck(kubeSystemWorkload, cronJob({ containers: c }, 'job', 'kube-system'))[0]!.message).toBe(
      'CronJob "job" runs in namespace kube-system, which is reserved for control-plane components',
    );
  });

  it('fires through the configuration path and is not dropped by image exemptions', () => {
    const obj = pod({ containers: [container('a', {}, 'registry.k8s.io/x:1')] }, 'p', 'kube-system');
    expect(evaluateWithConfig('kube-system-workload', obj, user('bob'))).toHaveLength(1);
    expect(evaluateWithConfig('kube-system-workload', obj, user('bob'), (cfg) => (cfg.exemptions.images = ['*']))).toHaveLength(1);
    expect(evaluateWithConfig('kube-system-workload', obj, user('system:admin'))).toEqual([]);
  });
});

describe('kube-system-workload covers kube-public (#12 item 5)', () => {
  it('fires on a human workload in kube-public and names the namespace', () => {
    const findings = runCheck(kubeSystemWorkload, deployment({ containers: c }, 'x', 'kube-public'), user('alice'));
    expect(findings.map((f) => f.message)).toEqual(['Deployment "x" is submitted to namespace kube-public by user "alice", which is not a system: identity']);
    expect(runCheck(kubeSystemWorkload, pod({ containers: c }, 'p', 'kube-public'))[0]!.message).toBe(
      'Pod "p" runs in namespace kube-public, which is reserved for control-plane components',
    );
  });
  it('does not fire on kube-node-lease or kube-publicity', () => {
    expect(pathsOf(kubeSystemWorkload, pod({ containers: c }, 'p', 'kube-publicity'), user('alice'))).toEqual([]);
  });
});
