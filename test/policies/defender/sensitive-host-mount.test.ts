import { describe, expect, it } from 'vitest';
import { sensitiveHostMount } from '../../../policies/defender/sensitive-host-mount.js';
import { container, cronJob, deployment, evaluateWithConfig, GARBAGE, lists, pathsOf, pod, runCheck } from './fixtures.js';
import { prng } from '../../support/prng.js';

function withHostPath(path: unknown, name = 'host'): Record<string, unknown> {
  return {
    containers: [container('app', { volumeMounts: [{ name, mountPath: '/host' }] })],
    volumes: [{ name, hostPath: { path, type: '' } }],
  };
}

describe('sensitive-host-mount', () => {
  it.each([
    ['/'],
    ['/var'],
    ['/etc'],
    ['/etc/kubernetes/pki'],
    ['/var/run/docker.sock'],
    ['/run/containerd/containerd.sock'],
    ['/var/lib/kubelet/pods'],
    ['/proc'],
    ['//etc/'],
    ['/etc/'],
    ['/tmp/../etc'],
    ['/./etc/./shadow'],
    ['/../../etc'],
    ['/var/lib'],
    ['etc'],
  ])('fires on hostPath %j', (path) => {
    expect(pathsOf(sensitiveHostMount, pod(withHostPath(path)))).toEqual(['spec.volumes[0].hostPath.path']);
  });

  it.each([
    ['/tmp'],
    ['/data'],
    ['/opt/app'],
    ['/etc-backup'],
    ['/etcd'],
    ['/var/lib/app'],
    ['/mnt/disks/ssd0'],
    ['/var/runner'],
    ['/etc/../tmp'],
    ['/home-data'],
  ])('does not fire on hostPath %j', (path) => {
    expect(pathsOf(sensitiveHostMount, pod(withHostPath(path)))).toEqual([]);
  });

  it.each([
    ['emptyDir volumes', pod({ containers: [container('a')], volumes: [{ name: 'v', emptyDir: {} }] })],
    ['no volumes', pod({ containers: [container('a')] })],
    ['volumes: null', pod({ containers: [container('a')], volumes: null })],
    ['hostPath: null', pod({ volumes: [{ name: 'v', hostPath: null }] })],
    ['a hostPath without path', pod({ volumes: [{ name: 'v', hostPath: {} }] })],
    ['an empty path (the API server rejects it)', pod(withHostPath(''))],
    ['a numeric path', pod(withHostPath(7))],
  ])('does not fire on %s', (_name, obj) => {
    expect(pathsOf(sensitiveHostMount, obj)).toEqual([]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j in volumes and mounts', (g) => {
    expect(() => runCheck(sensitiveHostMount, pod({ volumes: g }))).not.toThrow();
    expect(() => runCheck(sensitiveHostMount, pod({ volumes: [g] }))).not.toThrow();
    expect(() => runCheck(sensitiveHostMount, pod({ volumes: [{ name: g, hostPath: g }] }))).not.toThrow();
    expect(() =>
      runCheck(sensitiveHostMount, pod({ volumes: [{ name: 'v', hostPath: { path: '/etc' } }], containers: [{ name: 'a', volumeMounts: g }] })),
    ).not.toThrow();
  });

  it('points into a CronJob template and counts volumes by position', () => {
    const obj = cronJob({
      containers: [container('job')],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'sock', hostPath: { path: '/var/run/docker.sock' } },
      ],
    });
    expect(pathsOf(sensitiveHostMount, obj)).toEqual(['spec.jobTemplate.spec.template.spec.volumes[1].hostPath.path']);
  });

  it('names the volume, the path as written and resolved, and the containers that mount it', () => {
    const obj = deployment({
      initContainers: [container('setup', { volumeMounts: [{ name: 'etc', mountPath: '/h' }] })],
      containers: [container('app', { volumeMounts: [{ name: 'etc', mountPath: '/h', readOnly: true }] }), container('side')],
      volumes: [{ name: 'etc', hostPath: { path: '/tmp/../etc' } }],
    });
    const [f] = runCheck(sensitiveHostMount, obj);
    expect(f).toEqual({
      policy: 'sensitive-host-mount',
      severity: 'high',
      message: 'volume "etc" mounts host path "/tmp/../etc" (resolves to /etc), the sensitive path /etc; mounted by container "app", init container "setup"',
      path: 'spec.template.spec.volumes[0].hostPath.path',
    });
  });

  it('says whether the path lies under or above a sensitive path', () => {
    expect(runCheck(sensitiveHostMount, pod(withHostPath('/var/run/docker.sock')))[0]!.message).toContain('under the sensitive path /var/run');
    expect(runCheck(sensitiveHostMount, pod(withHostPath('/')))[0]!.message).toContain('an ancestor of the sensitive path /etc');
    expect(runCheck(sensitiveHostMount, pod({ volumes: [{ name: 'x', hostPath: { path: '/proc' } }] }))[0]!.message).toContain('not mounted by any container');
  });

  it('normalises the configured list too', () => {
    const custom = { lists: lists({ sensitiveHostPaths: ['/srv//secrets/', '/opt/./vault'] }) };
    expect(pathsOf(sensitiveHostMount, pod(withHostPath('/srv/secrets/db')), custom)).toHaveLength(1);
    expect(pathsOf(sensitiveHostMount, pod(withHostPath('/opt/vault')), custom)).toHaveLength(1);
    expect(pathsOf(sensitiveHostMount, pod(withHostPath('/etc')), custom)).toEqual([]);
  });

  it('is a pod-level finding: image exemptions do not drop it', () => {
    const obj = pod({
      containers: [container('agent', { volumeMounts: [{ name: 'h', mountPath: '/h' }] }, 'registry.k8s.io/agent:1')],
      volumes: [{ name: 'h', hostPath: { path: '/var/lib/kubelet' } }],
    });
    const found = evaluateWithConfig('sensitive-host-mount', obj, {}, (c) => (c.exemptions.images = ['registry.k8s.io/*']));
    expect(found).toHaveLength(1);
    expect(found[0]!.image).toBeUndefined();
  });
});

describe('sensitive-host-mount: node-root persistence paths in the default list (#14 §4)', () => {
  it.each([
    ['/usr/lib/modules'],
    ['/usr/lib/modules/6.1.0/kernel'],
    ['/opt/cni/bin'],
    ['/opt/cni'],
    ['/usr/bin'],
    ['/usr/sbin/'],
    ['/var/spool/cron/crontabs'],
    ['/etc/cron.d'],
    ['/usr'],
    ['/opt'],
  ])('fires on hostPath %j', (path) => {
    expect(pathsOf(sensitiveHostMount, pod(withHostPath(path)))).toEqual(['spec.volumes[0].hostPath.path']);
  });
  it.each([['/usr/local/share/app'], ['/opt/cni-data'], ['/var/spool/mail'], ['/usr/binaries']])('does not fire on hostPath %j', (path) => {
    expect(pathsOf(sensitiveHostMount, pod(withHostPath(path)))).toEqual([]);
  });
});

describe('sensitive-host-mount: the relation, against its definition', () => {
  // The first sensitive path in list order that the host path equals, lies under or is an
  // ancestor of (by component), computed the slow way for generated paths and lists.
  const within = (a: string, b: string) => a === b || b === '/' || a.startsWith(b + '/');
  const expected = (path: string, sensitive: string[]): string | undefined => {
    for (const s of [...new Set(sensitive)]) {
      if (path === s) return `the sensitive path ${s}`;
      if (within(path, s)) return `under the sensitive path ${s}`;
      if (within(s, path)) return `an ancestor of the sensitive path ${s}`;
    }
    return undefined;
  };
  const parts = ['etc', 'var', 'run', 'lib', 'kubelet', 'a', 'etc-backup', 'proc'];
  const random = prng(20261204);
  const genPath = () => '/' + Array.from({ length: Math.floor(random() * 4) }, () => parts[Math.floor(random() * parts.length)]).join('/');

  it('names the same sensitive path and relation for 3,000 generated paths and lists', () => {
    for (let n = 0; n < 3000; n++) {
      const sensitive = Array.from({ length: 1 + Math.floor(random() * 6) }, genPath);
      const path = genPath();
      const findings = runCheck(sensitiveHostMount, pod(withHostPath(path)), { lists: lists({ sensitiveHostPaths: sensitive }) });
      const want = expected(path, sensitive);
      if (want === undefined) expect(findings, `${path} against ${JSON.stringify(sensitive)}`).toEqual([]);
      else expect(findings[0]?.message, `${path} against ${JSON.stringify(sensitive)}`).toContain(`, ${want};`);
    }
  });
});
