// One table per PSS check, named by behaviour: what fires, at which versions, with which message,
// path and image. Each case runs the one check as bound at the given level and version.
import { describe, expect, it } from 'vitest';
import { pssChecks, type PssLevel } from '../../../policies/pss/index.js';
import type { Finding, K8sObject } from '../../../policies/types.js';
import { CTX, pod, podWithContainerSc, restrictedPod, subjectOf } from './support.js';

interface Expected {
  path: string;
  message?: string | RegExp;
  image?: string;
}

interface Case {
  name: string;
  /** Defaults to the level of the check's own table. */
  level?: PssLevel;
  /** Defaults to latest. */
  version?: string;
  obj: K8sObject;
  expect: Expected[];
}

function run(policy: string, level: PssLevel, version: string | undefined, obj: K8sObject): Finding[] {
  const check = pssChecks(level, version).find((c) => c.id === policy);
  return check ? check.evaluate(subjectOf(obj), CTX) : [];
}

function table(policy: string, defaultLevel: PssLevel, cases: Case[]): void {
  describe(policy, () => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const findings = run(policy, c.level ?? defaultLevel, c.version, c.obj);
      expect(findings.map((f) => f.path)).toEqual(c.expect.map((e) => e.path));
      findings.forEach((f, i) => {
        const e = c.expect[i]!;
        expect(f.policy).toBe(policy);
        if (typeof e.message === 'string') expect(f.message).toBe(e.message);
        else if (e.message) expect(f.message).toMatch(e.message);
        if ('image' in e) expect(f.image).toBe(e.image);
      });
    });
  });
}

const deployment = (spec: Record<string, unknown>): K8sObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: { template: { metadata: {}, spec } },
});

table('pss-privileged', 'baseline', [
  { name: 'unset passes', obj: pod(), expect: [] },
  { name: 'privileged=false passes', obj: podWithContainerSc({ privileged: false }), expect: [] },
  {
    name: 'privileged=true fails, naming the container, path and image',
    obj: podWithContainerSc({ privileged: true }),
    expect: [
      { path: 'spec.containers[0].securityContext.privileged', message: 'container "app" must not set securityContext.privileged=true', image: 'nginx:1.27' },
    ],
  },
  {
    name: 'init and ephemeral containers are checked, each reported',
    obj: pod({
      initContainers: [{ name: 'init', image: 'busybox', securityContext: { privileged: true } }],
      ephemeralContainers: [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }],
    }),
    expect: [
      { path: 'spec.initContainers[0].securityContext.privileged', message: 'init container "init" must not set securityContext.privileged=true' },
      { path: 'spec.ephemeralContainers[0].securityContext.privileged', message: 'ephemeral container "debug" must not set securityContext.privileged=true' },
    ],
  },
  {
    name: 'paths follow the workload template',
    obj: deployment({
      containers: [
        { name: 'a', image: 'x' },
        { name: 'b', image: 'y', securityContext: { privileged: true } },
      ],
    }),
    expect: [{ path: 'spec.template.spec.containers[1].securityContext.privileged', image: 'y' }],
  },
  { name: 'a non-boolean is not true', obj: podWithContainerSc({ privileged: 'true' }), expect: [] },
]);

table('pss-host-namespaces', 'baseline', [
  { name: 'false values pass', obj: pod({ hostNetwork: false, hostPID: false, hostIPC: false }), expect: [] },
  {
    name: 'each host namespace is one pod-level finding',
    obj: pod({ hostNetwork: true, hostPID: true, hostIPC: true }),
    expect: [
      { path: 'spec.hostNetwork', message: 'pod must not set hostNetwork=true' },
      { path: 'spec.hostPID', message: 'pod must not set hostPID=true' },
      { path: 'spec.hostIPC', message: 'pod must not set hostIPC=true' },
    ],
  },
]);

table('pss-host-path-volumes', 'baseline', [
  { name: 'other volumes pass', obj: pod({ volumes: [{ name: 'tmp', emptyDir: {} }] }), expect: [] },
  {
    name: 'hostPath fails, naming the volume',
    obj: pod({
      volumes: [
        { name: 'tmp', emptyDir: {} },
        { name: 'data', hostPath: { path: '/' } },
      ],
    }),
    expect: [{ path: 'spec.volumes[1].hostPath', message: 'volume "data" must not use a hostPath volume' }],
  },
  { name: 'hostPath: null is unset', obj: pod({ volumes: [{ name: 'data', hostPath: null, emptyDir: {} }] }), expect: [] },
  {
    name: 'is not part of restricted (restrictedVolumes reports it)',
    level: 'restricted',
    obj: pod({ volumes: [{ name: 'data', hostPath: { path: '/' } }] }),
    expect: [],
  },
]);

table('pss-host-ports', 'baseline', [
  { name: 'containerPort only passes', obj: pod({ containers: [{ name: 'app', ports: [{ containerPort: 80 }] }] }), expect: [] },
  { name: 'hostPort 0 passes', obj: pod({ containers: [{ name: 'app', ports: [{ containerPort: 80, hostPort: 0 }] }] }), expect: [] },
  {
    name: 'host ports fail, one finding per container listing them',
    obj: pod({ containers: [{ name: 'app', image: 'i', ports: [{ containerPort: 80 }, { containerPort: 81, hostPort: 8081 }, { hostPort: 8082 }] }] }),
    expect: [{ path: 'spec.containers[0].ports[1].hostPort', message: 'container "app" must not use hostPort 8081, 8082', image: 'i' }],
  },
]);

table('pss-capabilities-baseline', 'baseline', [
  { name: 'the default set may be added', obj: podWithContainerSc({ capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE', 'SYS_CHROOT'] } }), expect: [] },
  { name: 'drop alone passes', obj: podWithContainerSc({ capabilities: { drop: ['ALL'] } }), expect: [] },
  {
    name: 'NET_RAW and SYS_ADMIN fail',
    obj: podWithContainerSc({ capabilities: { add: ['CHOWN', 'NET_RAW', 'SYS_ADMIN'] } }),
    expect: [
      {
        path: 'spec.containers[0].securityContext.capabilities.add',
        message: 'container "app" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add',
      },
    ],
  },
  {
    name: 'names are case-sensitive, as in PSA',
    obj: podWithContainerSc({ capabilities: { add: ['chown'] } }),
    expect: [{ path: 'spec.containers[0].securityContext.capabilities.add' }],
  },
  {
    name: 'CAP_ prefixed names are not the default set',
    obj: podWithContainerSc({ capabilities: { add: ['CAP_CHOWN'] } }),
    expect: [{ path: 'spec.containers[0].securityContext.capabilities.add' }],
  },
  {
    name: 'restricted runs it before v1.22',
    level: 'restricted',
    version: 'v1.21',
    obj: podWithContainerSc({ capabilities: { add: ['NET_RAW'] } }),
    expect: [{ path: 'spec.containers[0].securityContext.capabilities.add' }],
  },
  {
    name: 'restricted overrides it from v1.22',
    level: 'restricted',
    version: 'v1.22',
    obj: podWithContainerSc({ capabilities: { add: ['NET_RAW'] } }),
    expect: [],
  },
]);

const APPARMOR = 'container.apparmor.security.beta.kubernetes.io/';
table('pss-app-armor-profile', 'baseline', [
  {
    name: 'runtime/default and localhost/* annotations pass',
    obj: pod({}, { annotations: { [`${APPARMOR}app`]: 'runtime/default', [`${APPARMOR}b`]: 'localhost/foo', [`${APPARMOR}c`]: '' } }),
    expect: [],
  },
  {
    name: 'an unconfined annotation fails (even for a container the pod lacks)',
    obj: pod({}, { annotations: { [`${APPARMOR}other`]: 'unconfined' } }),
    expect: [
      {
        path: `metadata.annotations[${APPARMOR}other]`,
        message: /must not set annotation container\.apparmor\.security\.beta\.kubernetes\.io\/other="unconfined"/,
      },
    ],
  },
  {
    name: 'RuntimeDefault and Localhost fields pass',
    obj: podWithContainerSc(
      { appArmorProfile: { type: 'Localhost', localhostProfile: 'p' } },
      { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } },
    ),
    expect: [],
  },
  {
    name: 'Unconfined at pod and container level fails',
    obj: podWithContainerSc({ appArmorProfile: { type: 'Unconfined' } }, { securityContext: { appArmorProfile: { type: 'Unconfined' } } }),
    expect: [
      { path: 'spec.securityContext.appArmorProfile.type', message: 'pod must not set securityContext.appArmorProfile.type to "Unconfined"' },
      {
        path: 'spec.containers[0].securityContext.appArmorProfile.type',
        message: 'container "app" must not set securityContext.appArmorProfile.type to "Unconfined"',
      },
    ],
  },
  {
    name: 'the fields count at old pinned versions too (PSA patched them into v1.0)',
    version: 'v1.22',
    obj: podWithContainerSc({ appArmorProfile: { type: 'Unconfined' } }),
    expect: [{ path: 'spec.containers[0].securityContext.appArmorProfile.type' }],
  },
  {
    name: 'an empty profile (no type) fails',
    obj: podWithContainerSc({ appArmorProfile: {} }),
    expect: [{ path: 'spec.containers[0].securityContext.appArmorProfile.type' }],
  },
]);

table('pss-se-linux-options', 'baseline', [
  {
    name: 'allowed types and a level pass',
    obj: podWithContainerSc({ seLinuxOptions: { type: 'container_init_t', level: 's0:c1' } }, { securityContext: { seLinuxOptions: {} } }),
    expect: [],
  },
  {
    name: 'a custom type fails',
    obj: podWithContainerSc({ seLinuxOptions: { type: 'spc_t' } }),
    expect: [
      { path: 'spec.containers[0].securityContext.seLinuxOptions.type', message: 'container "app" set forbidden securityContext.seLinuxOptions: type "spc_t"' },
    ],
  },
  {
    name: 'user and role may not be set',
    obj: pod({ securityContext: { seLinuxOptions: { user: 'u', role: 'r' } } }),
    expect: [
      {
        path: 'spec.securityContext.seLinuxOptions.user',
        message: 'pod set forbidden securityContext.seLinuxOptions: user may not be set; role may not be set',
      },
    ],
  },
  {
    name: 'container_engine_t is forbidden before v1.31',
    version: 'v1.30',
    obj: podWithContainerSc({ seLinuxOptions: { type: 'container_engine_t' } }),
    expect: [{ path: 'spec.containers[0].securityContext.seLinuxOptions.type' }],
  },
  {
    name: 'container_engine_t is allowed from v1.31',
    version: 'v1.31',
    obj: podWithContainerSc({ seLinuxOptions: { type: 'container_engine_t' } }),
    expect: [],
  },
]);

table('pss-proc-mount', 'baseline', [
  { name: 'Default passes', obj: podWithContainerSc({ procMount: 'Default' }), expect: [] },
  {
    name: 'Unmasked fails',
    obj: podWithContainerSc({ procMount: 'Unmasked' }),
    expect: [{ path: 'spec.containers[0].securityContext.procMount', message: 'container "app" must not set securityContext.procMount to "Unmasked"' }],
  },
  {
    name: 'hostUsers: false does not relax it before v1.35',
    version: 'v1.34',
    obj: podWithContainerSc({ procMount: 'Unmasked' }, { hostUsers: false }),
    expect: [{ path: 'spec.containers[0].securityContext.procMount' }],
  },
  { name: 'hostUsers: false relaxes it from v1.35', version: 'v1.35', obj: podWithContainerSc({ procMount: 'Unmasked' }, { hostUsers: false }), expect: [] },
  {
    name: 'hostUsers: true does not relax it',
    version: 'v1.35',
    obj: podWithContainerSc({ procMount: 'Unmasked' }, { hostUsers: true }),
    expect: [{ path: 'spec.containers[0].securityContext.procMount' }],
  },
]);

table('pss-proc-mount-restricted', 'restricted', [
  { name: 'does not exist before v1.35', version: 'v1.34', obj: podWithContainerSc({ procMount: 'Unmasked' }, { hostUsers: false }), expect: [] },
  {
    name: 'Unmasked fails even with hostUsers: false',
    version: 'v1.35',
    obj: podWithContainerSc({ procMount: 'Unmasked' }, { hostUsers: false }),
    expect: [{ path: 'spec.containers[0].securityContext.procMount' }],
  },
  { name: 'Default passes', obj: podWithContainerSc({ procMount: 'Default' }, { hostUsers: false }), expect: [] },
]);

const SECCOMP_POD = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER = 'container.seccomp.security.alpha.kubernetes.io/';
table('pss-seccomp-profile-baseline', 'baseline', [
  {
    name: 'v1.0: allowed annotations pass',
    version: 'v1.18',
    obj: pod({}, { annotations: { [SECCOMP_POD]: 'docker/default', [`${SECCOMP_CONTAINER}app`]: 'localhost/p' } }),
    expect: [],
  },
  {
    name: 'v1.0: unconfined pod and container annotations fail',
    version: 'v1.18',
    obj: pod({}, { annotations: { [SECCOMP_POD]: 'unconfined', [`${SECCOMP_CONTAINER}app`]: 'unknown' } }),
    expect: [
      { path: `metadata.annotations[${SECCOMP_POD}]`, message: `pod must not set annotation ${SECCOMP_POD}="unconfined"` },
      { path: `metadata.annotations[${SECCOMP_CONTAINER}app]`, image: 'nginx:1.27' },
    ],
  },
  { name: 'v1.0: fields are not read', version: 'v1.18', obj: podWithContainerSc({ seccompProfile: { type: 'Unconfined' } }), expect: [] },
  { name: 'v1.19: annotations are not read', version: 'v1.19', obj: pod({}, { annotations: { [SECCOMP_POD]: 'unconfined' } }), expect: [] },
  {
    name: 'v1.19: Unconfined fields fail',
    version: 'v1.19',
    obj: podWithContainerSc({ seccompProfile: { type: 'Unconfined' } }, { securityContext: { seccompProfile: { type: 'Unconfined' } } }),
    expect: [
      { path: 'spec.securityContext.seccompProfile.type', message: 'pod must not set securityContext.seccompProfile.type to "Unconfined"' },
      { path: 'spec.containers[0].securityContext.seccompProfile.type' },
    ],
  },
  { name: 'v1.19: unset passes', obj: pod(), expect: [] },
  {
    name: 'v1.19: a profile without a type fails',
    obj: pod({ securityContext: { seccompProfile: {} } }),
    expect: [{ path: 'spec.securityContext.seccompProfile.type' }],
  },
]);

const sysctl = (...names: string[]) => pod({ securityContext: { sysctls: names.map((name) => ({ name, value: '1' })) } });
table('pss-sysctls', 'baseline', [
  {
    name: 'the v1.0 safe set passes',
    version: 'v1.0',
    obj: sysctl('kernel.shm_rmid_forced', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'),
    expect: [],
  },
  {
    name: 'an unsafe sysctl fails, one finding per sysctl',
    obj: sysctl('kernel.shm_rmid_forced', 'kernel.msgmax', 'vm.swappiness'),
    expect: [
      { path: 'spec.securityContext.sysctls[1].name', message: 'pod must not set sysctl "kernel.msgmax"' },
      { path: 'spec.securityContext.sysctls[2].name' },
    ],
  },
  {
    name: 'ip_local_reserved_ports is unsafe at v1.26',
    version: 'v1.26',
    obj: sysctl('net.ipv4.ip_local_reserved_ports'),
    expect: [{ path: 'spec.securityContext.sysctls[0].name' }],
  },
  { name: 'ip_local_reserved_ports is safe from v1.27', version: 'v1.27', obj: sysctl('net.ipv4.ip_local_reserved_ports'), expect: [] },
  {
    name: 'tcp_keepalive_time is unsafe at v1.28',
    version: 'v1.28',
    obj: sysctl('net.ipv4.tcp_keepalive_time'),
    expect: [{ path: 'spec.securityContext.sysctls[0].name' }],
  },
  {
    name: 'the keepalive and fin_timeout sysctls are safe from v1.29',
    version: 'v1.29',
    obj: sysctl('net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'),
    expect: [],
  },
  { name: 'tcp_rmem is unsafe at v1.31', version: 'v1.31', obj: sysctl('net.ipv4.tcp_rmem'), expect: [{ path: 'spec.securityContext.sysctls[0].name' }] },
  { name: 'tcp_rmem and tcp_wmem are safe from v1.32', version: 'v1.32', obj: sysctl('net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'), expect: [] },
  {
    name: 'tcp_notsent_lowat is unsafe at v1.36',
    version: 'v1.36',
    obj: sysctl('net.ipv4.tcp_notsent_lowat'),
    expect: [{ path: 'spec.securityContext.sysctls[0].name' }],
  },
  {
    name: 'tcp_slow_start_after_idle and tcp_notsent_lowat are safe from v1.37',
    version: 'v1.37',
    obj: sysctl('net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat'),
    expect: [],
  },
  {
    name: 'a sysctl without a name is not safe',
    obj: pod({ securityContext: { sysctls: [{ value: '1' }] } }),
    expect: [{ path: 'spec.securityContext.sysctls[0].name', message: 'pod must not set sysctl ""' }],
  },
]);

table('pss-windows-host-process', 'baseline', [
  { name: 'hostProcess=false passes', obj: pod({ securityContext: { windowsOptions: { hostProcess: false } } }), expect: [] },
  {
    name: 'hostProcess at pod and container level fails',
    obj: podWithContainerSc({ windowsOptions: { hostProcess: true } }, { securityContext: { windowsOptions: { hostProcess: true } } }),
    expect: [
      { path: 'spec.securityContext.windowsOptions.hostProcess', message: 'pod must not set securityContext.windowsOptions.hostProcess=true' },
      {
        path: 'spec.containers[0].securityContext.windowsOptions.hostProcess',
        message: 'container "app" must not set securityContext.windowsOptions.hostProcess=true',
      },
    ],
  },
]);

const probed = (container: Record<string, unknown>) => pod({ containers: [{ name: 'app', image: 'i', ...container }] });
table('pss-host-probes-and-host-lifecycle', 'baseline', [
  {
    name: 'probes without host pass',
    obj: probed({ livenessProbe: { httpGet: { path: '/', port: 80 } }, readinessProbe: { tcpSocket: { host: '', port: 80 } } }),
    expect: [],
  },
  {
    name: 'a probe host fails',
    obj: probed({ livenessProbe: { httpGet: { host: '169.254.169.254', port: 80 } } }),
    expect: [
      {
        path: 'spec.containers[0].livenessProbe.httpGet.host',
        message: 'container "app" must not set livenessProbe.httpGet.host="169.254.169.254"',
        image: 'i',
      },
    ],
  },
  {
    name: 'lifecycle hooks are checked, all hosts in one finding per container',
    obj: probed({
      startupProbe: { tcpSocket: { host: 'a', port: 1 } },
      lifecycle: { postStart: { httpGet: { host: 'b', port: 2 } }, preStop: { tcpSocket: { host: 'c', port: 3 } } },
    }),
    expect: [
      {
        path: 'spec.containers[0].startupProbe.tcpSocket.host',
        message: 'container "app" must not set startupProbe.tcpSocket.host="a", lifecycle.postStart.httpGet.host="b", lifecycle.preStop.tcpSocket.host="c"',
      },
    ],
  },
  { name: 'does not exist before v1.34', version: 'v1.33', obj: probed({ livenessProbe: { httpGet: { host: 'x', port: 80 } } }), expect: [] },
  {
    name: 'applies from v1.34',
    version: 'v1.34',
    obj: probed({ readinessProbe: { tcpSocket: { host: 'x', port: 80 } } }),
    expect: [{ path: 'spec.containers[0].readinessProbe.tcpSocket.host' }],
  },
]);

const volumes = (...vs: Record<string, unknown>[]) => restrictedPod({ volumes: vs });
table('pss-restricted-volumes', 'restricted', [
  {
    name: 'the nine allowed types pass',
    obj: volumes(
      { name: 'a', configMap: { name: 'c' } },
      { name: 'b', csi: { driver: 'd' } },
      { name: 'c', downwardAPI: {} },
      { name: 'd', emptyDir: {} },
      { name: 'e', ephemeral: {} },
      { name: 'f', image: { reference: 'r' } },
      { name: 'g', persistentVolumeClaim: { claimName: 'c' } },
      { name: 'h', projected: { sources: [] } },
      { name: 'i', secret: { secretName: 's' } },
    ),
    expect: [],
  },
  {
    name: 'hostPath, nfs and gitRepo fail, one finding per volume',
    obj: volumes(
      { name: 'ok', emptyDir: {} },
      { name: 'data', hostPath: { path: '/' } },
      { name: 'share', nfs: { server: 's', path: '/' } },
      { name: 'src', gitRepo: { repository: 'r' } },
    ),
    expect: [
      { path: 'spec.volumes[1].hostPath', message: 'volume "data" uses restricted volume type "hostPath"' },
      { path: 'spec.volumes[2].nfs', message: 'volume "share" uses restricted volume type "nfs"' },
      { path: 'spec.volumes[3].gitRepo', message: 'volume "src" uses restricted volume type "gitRepo"' },
    ],
  },
  {
    name: 'an unknown volume type is restricted',
    obj: volumes({ name: 'x', fancyVolume: {} }),
    expect: [{ path: 'spec.volumes[0].fancyVolume', message: 'volume "x" uses restricted volume type "fancyVolume"' }],
  },
  { name: 'a volume without a source is what the API server defaults to emptyDir', obj: volumes({ name: 'x' }), expect: [] },
  { name: 'applies at v1.0', version: 'v1.0', obj: volumes({ name: 'x', hostPath: { path: '/' } }), expect: [{ path: 'spec.volumes[0].hostPath' }] },
]);

table('pss-allow-privilege-escalation', 'restricted', [
  { name: 'false passes', obj: restrictedPod(), expect: [] },
  {
    name: 'unset and true fail',
    obj: pod({
      containers: [
        { name: 'a', image: 'x' },
        { name: 'b', image: 'y', securityContext: { allowPrivilegeEscalation: true } },
      ],
    }),
    expect: [
      {
        path: 'spec.containers[0].securityContext.allowPrivilegeEscalation',
        message: 'container "a" must set securityContext.allowPrivilegeEscalation=false',
        image: 'x',
      },
      { path: 'spec.containers[1].securityContext.allowPrivilegeEscalation', image: 'y' },
    ],
  },
  { name: 'does not exist before v1.8', version: 'v1.7', obj: pod(), expect: [] },
  {
    name: 'windows pods are not exempt before v1.25',
    version: 'v1.24',
    obj: pod({ os: { name: 'windows' } }),
    expect: [{ path: 'spec.containers[0].securityContext.allowPrivilegeEscalation' }],
  },
  { name: 'windows pods are exempt from v1.25', version: 'v1.25', obj: pod({ os: { name: 'windows' } }), expect: [] },
  {
    name: 'linux pods are not exempt',
    version: 'v1.25',
    obj: pod({ os: { name: 'linux' } }),
    expect: [{ path: 'spec.containers[0].securityContext.allowPrivilegeEscalation' }],
  },
]);

table('pss-run-as-non-root', 'restricted', [
  { name: 'pod-level true covers containers', obj: pod({ securityContext: { runAsNonRoot: true } }), expect: [] },
  { name: 'every container true passes without the pod', obj: podWithContainerSc({ runAsNonRoot: true }), expect: [] },
  {
    name: 'unset everywhere fails at the container field',
    obj: pod(),
    expect: [
      { path: 'spec.containers[0].securityContext.runAsNonRoot', message: 'container "app" must set securityContext.runAsNonRoot=true (or the pod must)' },
    ],
  },
  {
    name: 'pod false fails even when containers say true',
    obj: podWithContainerSc({ runAsNonRoot: true }, { securityContext: { runAsNonRoot: false } }),
    expect: [{ path: 'spec.securityContext.runAsNonRoot', message: 'pod must not set securityContext.runAsNonRoot=false' }],
  },
  {
    name: 'container false fails despite the pod',
    obj: podWithContainerSc({ runAsNonRoot: false }, { securityContext: { runAsNonRoot: true } }),
    expect: [{ path: 'spec.containers[0].securityContext.runAsNonRoot', message: 'container "app" must not set securityContext.runAsNonRoot=false' }],
  },
  {
    name: 'hostUsers: false does not relax it before v1.35',
    version: 'v1.34',
    obj: pod({ hostUsers: false }),
    expect: [{ path: 'spec.containers[0].securityContext.runAsNonRoot' }],
  },
  { name: 'hostUsers: false relaxes it from v1.35', version: 'v1.35', obj: pod({ hostUsers: false, securityContext: { runAsNonRoot: false } }), expect: [] },
  { name: 'windows pods are not exempt', obj: pod({ os: { name: 'windows' } }), expect: [{ path: 'spec.containers[0].securityContext.runAsNonRoot' }] },
]);

table('pss-run-as-user', 'restricted', [
  { name: 'non-zero and unset pass', obj: podWithContainerSc({ runAsUser: 1000 }), expect: [] },
  {
    name: 'zero fails at pod and container level',
    obj: podWithContainerSc({ runAsUser: 0 }, { securityContext: { runAsUser: 0 } }),
    expect: [
      { path: 'spec.securityContext.runAsUser', message: 'pod must not set securityContext.runAsUser=0' },
      { path: 'spec.containers[0].securityContext.runAsUser', message: 'container "app" must not set securityContext.runAsUser=0' },
    ],
  },
  { name: 'does not exist before v1.23', version: 'v1.22', obj: podWithContainerSc({ runAsUser: 0 }), expect: [] },
  {
    name: 'hostUsers: false does not relax it before v1.35',
    version: 'v1.34',
    obj: podWithContainerSc({ runAsUser: 0 }, { hostUsers: false }),
    expect: [{ path: 'spec.containers[0].securityContext.runAsUser' }],
  },
  { name: 'hostUsers: false relaxes it from v1.35', version: 'v1.35', obj: podWithContainerSc({ runAsUser: 0 }, { hostUsers: false }), expect: [] },
]);

table('pss-seccomp-profile-restricted', 'restricted', [
  { name: 'pod-level RuntimeDefault passes', obj: pod({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }), expect: [] },
  {
    name: 'container-level Localhost passes without the pod',
    obj: podWithContainerSc({ seccompProfile: { type: 'Localhost', localhostProfile: 'p' } }),
    expect: [],
  },
  {
    name: 'unset fails at the container field',
    obj: pod(),
    expect: [
      {
        path: 'spec.containers[0].securityContext.seccompProfile.type',
        message: 'container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost" (or the pod must)',
      },
    ],
  },
  {
    name: 'Unconfined fails',
    obj: podWithContainerSc({ seccompProfile: { type: 'Unconfined' } }, { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }),
    expect: [
      {
        path: 'spec.containers[0].securityContext.seccompProfile.type',
        message: 'container "app" must not set securityContext.seccompProfile.type to "Unconfined"',
      },
    ],
  },
  {
    name: 'an Unconfined pod leaves unset containers uncovered',
    obj: pod({ securityContext: { seccompProfile: { type: 'Unconfined' } } }),
    expect: [{ path: 'spec.securityContext.seccompProfile.type' }, { path: 'spec.containers[0].securityContext.seccompProfile.type' }],
  },
  { name: 'does not exist before v1.19 (the annotation check runs instead)', version: 'v1.18', obj: pod(), expect: [] },
  { name: 'windows pods are exempt from v1.25', version: 'v1.25', obj: pod({ os: { name: 'windows' } }), expect: [] },
  {
    name: 'windows pods are not exempt before v1.25',
    version: 'v1.24',
    obj: pod({ os: { name: 'windows' } }),
    expect: [{ path: 'spec.containers[0].securityContext.seccompProfile.type' }],
  },
]);

table('pss-capabilities-restricted', 'restricted', [
  { name: 'drop ALL and add NET_BIND_SERVICE passes', obj: podWithContainerSc({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }), expect: [] },
  {
    name: 'no capabilities fails at drop',
    obj: pod(),
    expect: [{ path: 'spec.containers[0].securityContext.capabilities.drop', message: 'container "app" must set securityContext.capabilities.drop=["ALL"]' }],
  },
  {
    name: 'dropping everything by name is not ALL',
    obj: podWithContainerSc({ capabilities: { drop: ['NET_RAW', 'SYS_ADMIN'] } }),
    expect: [{ path: 'spec.containers[0].securityContext.capabilities.drop' }],
  },
  {
    name: 'all (lower case) is not ALL',
    obj: podWithContainerSc({ capabilities: { drop: ['all'] } }),
    expect: [{ path: 'spec.containers[0].securityContext.capabilities.drop' }],
  },
  {
    name: 'adding anything but NET_BIND_SERVICE fails, even a default capability',
    obj: podWithContainerSc({ capabilities: { drop: ['ALL'], add: ['CHOWN', 'NET_BIND_SERVICE'] } }),
    expect: [
      {
        path: 'spec.containers[0].securityContext.capabilities.add',
        message: 'container "app" must not include "CHOWN" in securityContext.capabilities.add (only NET_BIND_SERVICE may be added)',
      },
    ],
  },
  { name: 'does not exist before v1.22', version: 'v1.21', obj: pod(), expect: [] },
  { name: 'windows pods are exempt from v1.25', version: 'v1.25', obj: pod({ os: { name: 'windows' } }), expect: [] },
  {
    name: 'windows pods are not exempt before v1.25',
    version: 'v1.24',
    obj: pod({ os: { name: 'windows' } }),
    expect: [{ path: 'spec.containers[0].securityContext.capabilities.drop' }],
  },
]);

describe('subjects without a spec or with odd shapes', () => {
  it('an empty pod, null securityContexts and non-record containers yield nothing at baseline', () => {
    for (const obj of [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } },
      pod({ securityContext: null, containers: [null, 'x', { name: 'a', securityContext: null }] }),
    ]) {
      const subject = subjectOf(obj as K8sObject);
      for (const check of pssChecks('baseline')) expect(check.evaluate(subject, CTX)).toEqual([]);
    }
  });

  it('the EphemeralContainers subresource (≤1.21) is checked at the root path', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'EphemeralContainers',
      metadata: { name: 'p' },
      ephemeralContainers: [{ name: 'dbg', image: 'b', securityContext: { privileged: true } }],
    };
    expect(run('pss-privileged', 'baseline', undefined, obj).map((f) => f.path)).toEqual(['ephemeralContainers[0].securityContext.privileged']);
  });

  it('a CronJob reports paths under its job template', () => {
    const obj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { jobTemplate: { spec: { template: { spec: { hostPID: true, containers: [{ name: 'a' }] } } } } },
    };
    expect(run('pss-host-namespaces', 'baseline', undefined, obj).map((f) => f.path)).toEqual(['spec.jobTemplate.spec.template.spec.hostPID']);
  });
});
