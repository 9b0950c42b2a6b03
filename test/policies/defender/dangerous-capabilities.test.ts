import { describe, expect, it } from 'vitest';
import { canonicalCapability, dangerousCapabilities } from '../../../policies/defender/dangerous-capabilities.js';
import { container, cronJob, evaluateWithConfig, GARBAGE, lists, pathsOf, pod, runCheck } from './fixtures.js';

function adding(add: unknown, list: 'containers' | 'initContainers' | 'ephemeralContainers' = 'containers'): Record<string, unknown> {
  return { [list]: [container('app', { securityContext: { capabilities: { add } } })] };
}

describe('dangerous-capabilities', () => {
  it.each([
    ['SYS_ADMIN', ['SYS_ADMIN'], [0]],
    ['lower case', ['sys_admin'], [0]],
    ['the CAP_ prefix', ['CAP_SYS_ADMIN'], [0]],
    ['a lower-case cap_ prefix', ['cap_net_admin'], [0]],
    ['ALL', ['ALL'], [0]],
    ['all, lower case', ['all'], [0]],
    ['NET_RAW (not in the baseline set)', ['NET_RAW'], [0]],
    ['each offending entry, not the allowed ones', ['CHOWN', 'SYS_PTRACE', 'KILL', 'BPF'], [1, 3]],
    ['an unknown capability', ['MADE_UP'], [0]],
  ])('fires on %s', (_name, add, indices) => {
    expect(pathsOf(dangerousCapabilities, pod(adding(add)))).toEqual(indices.map((j) => `spec.containers[0].securityContext.capabilities.add[${j}]`));
  });

  it.each([
    [
      'the baseline set',
      ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'],
    ],
    ['baseline names with CAP_ and any case', ['CAP_CHOWN', 'net_bind_service', 'Cap_Kill']],
    ['an empty add list', []],
    ['add: null', null],
    ['a non-list add', 'SYS_ADMIN'],
    ['non-string entries', [7, null, { name: 'SYS_ADMIN' }]],
  ])('does not fire on %s', (_name, add) => {
    expect(pathsOf(dangerousCapabilities, pod(adding(add)))).toEqual([]);
  });

  it('ignores capabilities.drop', () => {
    expect(
      pathsOf(dangerousCapabilities, pod({ containers: [container('a', { securityContext: { capabilities: { drop: ['ALL', 'SYS_ADMIN'] } } })] })),
    ).toEqual([]);
  });

  it.each([
    ['init containers', 'initContainers', 'spec.initContainers[0].securityContext.capabilities.add[0]'],
    ['ephemeral containers', 'ephemeralContainers', 'spec.ephemeralContainers[0].securityContext.capabilities.add[0]'],
  ] as const)('fires on %s', (_name, list, path) => {
    expect(pathsOf(dangerousCapabilities, pod(adding(['SYS_ADMIN'], list)))).toEqual([path]);
  });

  it('points into a CronJob template', () => {
    expect(pathsOf(dangerousCapabilities, cronJob(adding(['NET_ADMIN'])))).toEqual([
      'spec.jobTemplate.spec.template.spec.containers[0].securityContext.capabilities.add[0]',
    ]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j', (g) => {
    expect(() => runCheck(dangerousCapabilities, pod({ containers: [container('a', { securityContext: { capabilities: g } })] }))).not.toThrow();
    expect(() => runCheck(dangerousCapabilities, pod(adding(g)))).not.toThrow();
    expect(() => runCheck(dangerousCapabilities, pod(adding([g])))).not.toThrow();
  });

  it('reads the allowed set from the lists, with CAP_ and case normalised', () => {
    const ctx = { lists: lists({ allowedCapabilities: ['cap_net_admin'] }) };
    expect(pathsOf(dangerousCapabilities, pod(adding(['NET_ADMIN', 'CHOWN'])), ctx)).toEqual(['spec.containers[0].securityContext.capabilities.add[1]']);
  });

  it('canonicalises names', () => {
    expect(canonicalCapability('cap_sys_admin')).toBe('SYS_ADMIN');
    expect(canonicalCapability(' Net_Raw ')).toBe('NET_RAW');
  });

  it('names the container and the capability as written, with the image', () => {
    const [f] = runCheck(
      dangerousCapabilities,
      pod({ containers: [container('vpn', { securityContext: { capabilities: { add: ['CAP_NET_ADMIN'] } } }, 'wireguard:1')] }),
    );
    expect(f).toEqual({
      policy: 'dangerous-capabilities',
      severity: 'high',
      message: 'container "vpn" must not add capability "CAP_NET_ADMIN": it is outside the allowed set',
      path: 'spec.containers[0].securityContext.capabilities.add[0]',
      image: 'wireguard:1',
    });
    expect(runCheck(dangerousCapabilities, pod(adding(['ALL'])))[0]!.message).toBe('container "app" must not add capability "ALL": it grants every capability');
  });

  it('fires through the configuration path; image exemptions drop it', () => {
    const obj = pod({ containers: [container('a', { securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }, 'quay.io/ops/agent:1')] });
    expect(evaluateWithConfig('dangerous-capabilities', obj)).toHaveLength(1);
    expect(evaluateWithConfig('dangerous-capabilities', obj, {}, (c) => (c.exemptions.images = ['quay.io/ops/*']))).toEqual([]);
  });
});
