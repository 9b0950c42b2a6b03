// Every check's CEL compilation, by policy ID. Adding one touches its own file and this list.
import type { CheckCompiler } from '../types.js';
import { anonymousBinding } from './anonymous-binding.js';
import { clusterAdminBinding } from './cluster-admin-binding.js';
import { cryptoMiningImage } from './crypto-mining-image.js';
import { dangerousCapabilities } from './dangerous-capabilities.js';
import { exposedDashboard } from './exposed-dashboard.js';
import { highPrivilegeRole } from './high-privilege-role.js';
import { hostNamespaces } from './host-namespaces.js';
import { kubeSystemWorkload } from './kube-system-workload.js';
import { privilegedContainer } from './privileged-container.js';
import { pssAllowPrivilegeEscalation } from './pss-allow-privilege-escalation.js';
import { pssAppArmorProfile } from './pss-app-armor-profile.js';
import { pssCapabilitiesBaseline } from './pss-capabilities-baseline.js';
import { pssCapabilitiesRestricted } from './pss-capabilities-restricted.js';
import { pssHostNamespaces } from './pss-host-namespaces.js';
import { pssHostPathVolumes } from './pss-host-path-volumes.js';
import { pssHostPorts } from './pss-host-ports.js';
import { pssHostProbesAndHostLifecycle } from './pss-host-probes-and-host-lifecycle.js';
import { pssPrivileged } from './pss-privileged.js';
import { pssProcMount } from './pss-proc-mount.js';
import { pssProcMountRestricted } from './pss-proc-mount-restricted.js';
import { pssRestrictedVolumes } from './pss-restricted-volumes.js';
import { pssRunAsNonRoot } from './pss-run-as-non-root.js';
import { pssRunAsUser } from './pss-run-as-user.js';
import { pssSeLinuxOptions } from './pss-se-linux-options.js';
import { pssSeccompProfileBaseline } from './pss-seccomp-profile-baseline.js';
import { pssSeccompProfileRestricted } from './pss-seccomp-profile-restricted.js';
import { pssSysctls } from './pss-sysctls.js';
import { pssWindowsHostProcess } from './pss-windows-host-process.js';
import { sensitiveHostMount } from './sensitive-host-mount.js';

export const COMPILERS: ReadonlyMap<string, CheckCompiler> = new Map(
  [
    privilegedContainer,
    sensitiveHostMount,
    hostNamespaces,
    dangerousCapabilities,
    kubeSystemWorkload,
    cryptoMiningImage,
    highPrivilegeRole,
    clusterAdminBinding,
    anonymousBinding,
    exposedDashboard,
    pssPrivileged,
    pssHostNamespaces,
    pssHostPathVolumes,
    pssHostPorts,
    pssCapabilitiesBaseline,
    pssAppArmorProfile,
    pssSeLinuxOptions,
    pssProcMount,
    pssSeccompProfileBaseline,
    pssSysctls,
    pssWindowsHostProcess,
    pssHostProbesAndHostLifecycle,
    pssRestrictedVolumes,
    pssAllowPrivilegeEscalation,
    pssRunAsNonRoot,
    pssRunAsUser,
    pssSeccompProfileRestricted,
    pssCapabilitiesRestricted,
    pssProcMountRestricted,
  ].map((c) => [c.id, c]),
);
