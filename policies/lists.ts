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
  // Pod template labels of the dashboards' own manifests and charts (kubernetes-dashboard v2
  // recommended.yaml and the v7 chart, headlamp's chart, weave scope, Kubeflow's central dashboard,
  // skooner, k8dash, kube-ops-view).
  dashboardPodLabels: [
    'kubernetes-dashboard: k8s-app=kubernetes-dashboard',
    'kubernetes-dashboard: app.kubernetes.io/name=kubernetes-dashboard-web,app.kubernetes.io/part-of=kubernetes-dashboard,app.kubernetes.io/instance=kubernetes-dashboard,app.kubernetes.io/component=web',
    'kubernetes-dashboard: app.kubernetes.io/name=kong,app.kubernetes.io/instance=kubernetes-dashboard,app.kubernetes.io/component=app',
    'headlamp: app.kubernetes.io/name=headlamp,app.kubernetes.io/instance=headlamp',
    'weave-scope-app: name=weave-scope-app,app=weave-scope,weave-cloud-component=scope,weave-scope-component=app',
    'centraldashboard: app=centraldashboard,app.kubernetes.io/component=centraldashboard,app.kubernetes.io/name=centraldashboard,kustomize.component=centraldashboard',
    'skooner: k8s-app=skooner',
    'k8dash: k8s-app=k8dash',
    'kube-ops-view: application=kube-ops-view,component=frontend',
  ],
  allowedCapabilities: [
    'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP',
    'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
  ],
});
