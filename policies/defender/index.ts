// The `defender` policy set: one check per file, registered here in a stable order.
import type { AnyCheck } from '../types.js';
import { anonymousBinding } from './anonymous-binding.js';
import { clusterAdminBinding } from './cluster-admin-binding.js';
import { cryptoMiningImage } from './crypto-mining-image.js';
import { dangerousCapabilities } from './dangerous-capabilities.js';
import { exposedService } from './exposed-service.js';
import { exposedDashboard } from './exposed-dashboard.js';
import { highPrivilegeRole } from './high-privilege-role.js';
import { hostNamespaces } from './host-namespaces.js';
import { kubeSystemWorkload } from './kube-system-workload.js';
import { privilegedContainer } from './privileged-container.js';
import { sensitiveHostMount } from './sensitive-host-mount.js';

export const DEFENDER_CHECKS: readonly AnyCheck[] = [
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
  exposedService,
];
