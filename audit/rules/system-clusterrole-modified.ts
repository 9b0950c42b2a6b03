// system-clusterrole-modified — a bootstrap `system:` ClusterRole or ClusterRoleBinding changed or
// deleted by anyone but the control plane (Falco's "System ClusterRole Modified/Deleted"). The API
// server reconciles these at every start; a change in between widens what a system identity (a
// node, a controller, every authenticated user through system:basic-user / system:discovery) may
// do, and is a quiet way to keep access. Names that add-ons create with a `system:` prefix are
// data: lists.systemRoleNamesIgnored.
import { listOf } from '../../policies/lists.js';
import { actor, isControlPlaneRequest, type AuditRule } from './types.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RESOURCES: ReadonlyMap<string, string> = new Map([
  ['clusterroles', 'ClusterRole'],
  ['clusterrolebindings', 'ClusterRoleBinding'],
]);
const VERBS: ReadonlyMap<string, string> = new Map([
  ['update', 'updated'],
  ['patch', 'patched'],
  ['delete', 'deleted'],
  ['deletecollection', 'deleted every'],
]);

export const systemClusterroleModified: AuditRule = {
  id: 'system-clusterrole-modified',
  title: 'System ClusterRole or binding modified',
  severity: 'high',
  tactics: ['Privilege Escalation', 'Persistence'],
  remediation:
    'Find out who changed the bootstrap RBAC object and why; restart of the API server restores the defaults (auto-reconciliation) unless rbac.authorization.kubernetes.io/autoupdate was set to false, which itself should be reverted.',
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: [...RESOURCES.keys()],
  judgedOnFacts: true,
  match(f, ctx) {
    const kind = RESOURCES.get(f.resource);
    const done = VERBS.get(f.verb);
    if (kind === undefined || done === undefined || f.apiGroup !== RBAC_GROUP || f.subresource !== '' || !f.success) return undefined;
    if (isControlPlaneRequest(f, ctx)) return undefined;
    if (f.verb === 'deletecollection') {
      return { message: `${actor(f)} ${done} ${kind} (deletecollection), bootstrap system: objects included`, evidence: { kind } };
    }
    if (!f.name.startsWith('system:')) return undefined;
    if (ctx.matches(listOf(ctx.lists, 'systemRoleNamesIgnored'), f.name)) return undefined;
    return { message: `${actor(f)} ${done} bootstrap ${kind} ${f.name}`, evidence: { kind } };
  },
};
