// The audit event rules, in a stable order. Adding a rule touches its file and this list.
import { admissionWebhookModified } from './admission-webhook-modified.js';
import { anonymousRequestAllowed } from './anonymous-request-allowed.js';
import { bulwarkTampering } from './bulwark-tampering.js';
import { configmapCredentials } from './configmap-credentials.js';
import { corednsModified } from './coredns-modified.js';
import { execIntoPod } from './exec-into-pod.js';
import { impersonationOfSystemIdentity } from './impersonation-of-system-identity.js';
import { kubeEventsDeleted } from './kube-events-deleted.js';
import { nodeportService } from './nodeport-service.js';
import { pentestTool } from './pentest-tool.js';
import { secretsEnumerated } from './secrets-enumerated.js';
import { systemClusterroleModified } from './system-clusterrole-modified.js';
import { serviceaccountInKubeNamespace } from './serviceaccount-in-kube-namespace.js';
import { ephemeralContainerAdded } from './ephemeral-container-added.js';
import { portForward } from './port-forward.js';
import { threatIntelSource } from './threat-intel-source.js';
import { serviceaccountRareOperation } from './serviceaccount-rare-operation.js';
import { serviceaccountTokenMisuse } from './serviceaccount-token-misuse.js';
import type { AuditRule } from './types.js';

export const AUDIT_RULES: readonly AuditRule[] = [
  execIntoPod,
  kubeEventsDeleted,
  pentestTool,
  anonymousRequestAllowed,
  admissionWebhookModified,
  corednsModified,
  secretsEnumerated,
  configmapCredentials,
  nodeportService,
  impersonationOfSystemIdentity,
  bulwarkTampering,
  systemClusterroleModified,
  serviceaccountInKubeNamespace,
  ephemeralContainerAdded,
  portForward,
  threatIntelSource,
  serviceaccountRareOperation,
  serviceaccountTokenMisuse,
];

export const AUDIT_ALERT_TYPES: readonly string[] = AUDIT_RULES.map((r) => r.id);
