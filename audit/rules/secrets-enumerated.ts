// secrets-enumerated — a user listed or watched secrets across all namespaces. Reading every secret
// of the cluster at once is what credential harvesting looks like. Only the control plane's own
// identities (`audit.controlPlaneIdentities`: the API server, the controller manager and its
// controllers, the scheduler, the nodes) are exempt, and only when they are the authenticated user:
// a stolen service-account token (`system:serviceaccount:…`) listing secrets is exactly what to see.
import { actor, isControlPlaneRequest, type AuditRule } from './types.js';

export const secretsEnumerated: AuditRule = {
  id: 'secrets-enumerated',
  title: 'Secrets listed across all namespaces',
  severity: 'medium',
  tactics: ['Credential Access', 'Discovery'],
  remediation:
    'Check why the user needs every secret; grant list/watch on secrets per namespace (Role, not ClusterRole) and rotate secrets if the access was not expected.',
  skipDryRun: false,
  requires: ['success'],
  resources: ['secrets'],
  judgedOnFacts: true,
  match(f, ctx) {
    if (f.resource !== 'secrets' || f.apiGroup !== '' || f.namespace !== '' || f.subresource !== '') return undefined;
    if ((f.verb !== 'list' && f.verb !== 'watch') || !f.success) return undefined;
    if (isControlPlaneRequest(f, ctx)) return undefined;
    return { message: `${actor(f)} ${f.verb === 'watch' ? 'watched' : 'listed'} secrets across all namespaces` };
  },
};
