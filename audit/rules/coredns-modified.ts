// coredns-modified — the `coredns` ConfigMap in kube-system was updated, patched or deleted. Whoever
// edits the cluster's DNS can send any service's traffic to a host of their choosing.
import { actor, type AuditRule } from './types.js';

export const corednsModified: AuditRule = {
  id: 'coredns-modified',
  title: 'CoreDNS configuration modified',
  severity: 'medium',
  tactics: ['Lateral Movement'],
  remediation: 'Review the Corefile change (rewrite, forward, hosts entries); restore it from source control if it was not planned.',
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: ['configmaps'],
  judgedOnFacts: true,
  match(f) {
    if (f.resource !== 'configmaps' || f.apiGroup !== '' || f.namespace !== 'kube-system' || f.name !== 'coredns') return undefined;
    if ((f.verb !== 'update' && f.verb !== 'patch' && f.verb !== 'delete') || !f.success) return undefined;
    const done = f.verb === 'delete' ? 'deleted' : f.verb === 'patch' ? 'patched' : 'updated';
    return { message: `${actor(f)} ${done} the CoreDNS configuration (ConfigMap kube-system/coredns)` };
  },
};
