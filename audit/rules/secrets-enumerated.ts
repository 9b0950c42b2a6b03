// secrets-enumerated — a user (not a `system:` identity) listed or watched secrets across all
// namespaces. Reading every secret of the cluster at once is what credential harvesting looks like;
// controllers that need it run as system: service accounts.
import { actor, type AuditRule } from './types.js';

export const secretsEnumerated: AuditRule = {
  id: 'secrets-enumerated',
  title: 'Secrets listed across all namespaces',
  severity: 'medium',
  tactics: ['Credential Access', 'Discovery'],
  remediation:
    'Check why the user needs every secret; grant list/watch on secrets per namespace (Role, not ClusterRole) and rotate secrets if the access was not expected.',
  skipDryRun: false,
  match(f) {
    if (f.resource !== 'secrets' || f.apiGroup !== '' || f.namespace !== '' || f.subresource !== '') return undefined;
    if ((f.verb !== 'list' && f.verb !== 'watch') || !f.success) return undefined;
    if (f.username.startsWith('system:')) return undefined;
    return { message: `${actor(f)} ${f.verb === 'watch' ? 'watched' : 'listed'} secrets across all namespaces` };
  },
};
