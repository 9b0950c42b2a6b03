// serviceaccount-in-kube-namespace — a ServiceAccount created in kube-system or kube-public
// (lists.systemNamespaces) by an identity outside the control plane (Falco's "Service Account
// Created in Kube Namespace"). Accounts there are usually bound to powerful roles and rarely
// reviewed; a new one is a classic place for a backdoor token. The namespace comes from objectRef
// (the URL) when the body has none, as client-go sends it.
import { isRecord } from '../../core/record.js';
import { listOf } from '../../policies/lists.js';
import { objectOfWrite } from '../objects.js';
import { actor, isControlPlaneRequest, qualified, type AuditRule } from './types.js';

export const serviceaccountInKubeNamespace: AuditRule = {
  id: 'serviceaccount-in-kube-namespace',
  title: 'Service account created in a kube namespace',
  severity: 'medium',
  tactics: ['Persistence', 'Privilege Escalation'],
  remediation:
    'Check who created the service account and what it is bound to; delete it and its tokens if it was not planned, and restrict create on serviceaccounts in kube-system and kube-public.',
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: ['serviceaccounts'],
  match(f, ctx) {
    if (f.resource !== 'serviceaccounts' || f.apiGroup !== '' || f.verb !== 'create' || f.subresource !== '' || !f.success) return undefined;
    const body = objectOfWrite(f.event);
    const meta = body && isRecord(body.metadata) ? body.metadata : {};
    const namespace = f.namespace || (typeof meta.namespace === 'string' ? meta.namespace : '');
    if (!listOf(ctx.lists, 'systemNamespaces').includes(namespace)) return undefined;
    if (isControlPlaneRequest(f, ctx)) return undefined;
    const name = f.name || (typeof meta.name === 'string' ? meta.name : '') || (typeof meta.generateName === 'string' ? `${meta.generateName}*` : '');
    return {
      message: `${actor(f)} created ServiceAccount ${qualified(namespace, name || '(unnamed)')} in ${namespace}`,
      namespace,
      resource: { group: '', version: 'v1', kind: 'ServiceAccount', name },
    };
  },
};
