// The alert types raised from the audit log and the alert pipeline, by name (DESIGN.md's contract),
// so that config/ can validate `exceptions:` keys without importing audit/. A test keeps this list
// and audit/rules in step; policy IDs come from policies/registry.ts.
export const AUDIT_ALERT_TYPE_NAMES: readonly string[] = [
  'exec-into-pod', 'kube-events-deleted', 'pentest-tool', 'anonymous-request-allowed', 'admission-webhook-modified',
  'coredns-modified', 'secrets-enumerated', 'configmap-credentials', 'nodeport-service', 'impersonation-of-system-identity',
  'bulwark-tampering', 'system-clusterrole-modified', 'serviceaccount-in-kube-namespace', 'ephemeral-container-added',
  'port-forward', 'threat-intel-source', 'exposed-service', 'serviceaccount-rare-operation', 'serviceaccount-token-misuse',
  'alert-flood',
];
