// anonymous-request-allowed — `system:anonymous` was allowed something other than the health and
// version endpoints (/healthz, /livez, /readyz, /version and their sub-paths;
// `audit.anonymousAllowedPaths`). Anonymous access beyond those means a binding grants
// system:anonymous or system:unauthenticated more than it should.
import { pathOf, requestPath, usernameOf } from '../event.js';
import { type AuditRule } from './types.js';

export const anonymousRequestAllowed: AuditRule = {
  id: 'anonymous-request-allowed',
  title: 'Anonymous request allowed',
  severity: 'high',
  tactics: ['Initial Access'],
  remediation: 'Remove the RBAC bindings that grant system:anonymous or system:unauthenticated; consider --anonymous-auth=false on the API server.',
  skipDryRun: false,
  requires: ['anonymous'],
  // A health or version endpoint never alerts, whatever else the request was.
  quiet: (f, ctx) => ctx.settings.anonymousAllowed(pathOf(f.requestURI)),
  match(f, ctx) {
    // The authenticated user: an anonymous client that impersonates someone is still anonymous.
    if (usernameOf(f.event.user) !== 'system:anonymous') return undefined;
    const decision = f.event.annotations?.['authorization.k8s.io/decision'];
    if (!f.success && decision !== 'allow') return undefined;
    if (decision === 'forbid') return undefined;
    const path = requestPath(f.event);
    if (ctx.settings.anonymousAllowed(path)) return undefined;
    return {
      message: `an anonymous client was allowed to ${f.verb || 'request'} ${path}`,
      resource: f.resource ? undefined : { group: '', version: '', kind: '', name: path },
      evidence: { decision: decision ?? null, reason: f.event.annotations?.['authorization.k8s.io/reason'] ?? null },
    };
  },
};
