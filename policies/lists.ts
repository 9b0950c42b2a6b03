// Default data lists (Falco-style macros): the config's `lists:` key replaces any of them.
import type { PolicyLists } from './types.js';

export const DEFAULT_LISTS: Readonly<PolicyLists> = Object.freeze({
  sensitiveHostPaths: [
    '/etc', '/root', '/home', '/proc', '/sys', '/dev', '/boot', '/lib/modules', '/run', '/var/run',
    '/var/lib/kubelet', '/var/lib/docker', '/var/lib/containerd', '/var/lib/etcd', '/var/log', '/etc/kubernetes',
    // Node-root persistence: kernel modules, CNI plugins the kubelet runs as root, system binaries, cron.
    '/usr/lib/modules', '/opt/cni', '/usr/bin', '/usr/sbin', '/var/spool/cron', '/etc/cron.d',
  ],
  minerNames: [
    'xmrig', 'xmr-stak', 'cpuminer', 'minerd', 'ethminer', 'nbminer', 't-rex', 'lolminer', 'phoenixminer',
    'claymore', 'cgminer', 'bfgminer', 'ccminer', 'nanominer', 'gminer', 'teamredminer', 'srbminer', 'nicehash',
    'minergate', 'xmr-stak-cpu', 'cryptonight', 'moneroocean', 'xmrminer', 'cpuminer-opt', 'wildrig', 'bminer',
    'excavator', 'kawpowminer', 'ethash', 'randomx', 'coinhive', 'nheqminer', 'sgminer', 'xmrigcc',
  ],
  minerPoolSchemes: ['stratum+tcp://', 'stratum+ssl://', 'stratum+tls://', 'stratum2+tcp://', 'stratum+udp://'],
  dashboardNames: [
    'kubernetes-dashboard', 'centraldashboard', 'headlamp', 'weave-scope-app', 'k8dash', 'skooner', 'kube-ops-view',
  ],
  allowedCapabilities: [
    'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP',
    'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
  ],
});
