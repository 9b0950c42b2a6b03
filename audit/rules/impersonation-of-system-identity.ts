// impersonation-of-system-identity — a request made while impersonating a `system:` identity: a user
// whose name starts with `system:` (the scheduler, the controller manager, a node, a service
// account, …) or a `system:` group other than `system:authenticated`, which the API server adds to
// every impersonated user itself (`system:masters` is cluster-admin without RBAC). The API server
// records `impersonatedUser` only once the impersonation was authorized, so every such event is an
// impersonation that happened, whatever the answer to the request itself.
//
// Why it matters: the control plane's identities are what Bulwark's audit side and many other
// tools exempt, and their permissions are broad; impersonating one hides an action behind an
// identity nobody watches. Exemptions apply to the authenticated user, so the impersonated request
// is judged by every other rule too. High for the control plane (`audit.controlPlaneIdentities`),
// nodes and the `system:masters`/`system:nodes` groups; medium for other system: identities
// (service accounts, system:anonymous). One alert per impersonator and identity per
// de-duplication window (the object touched goes to the evidence). In an AdmissionReview the
// userInfo is already the impersonated user and nothing says an impersonation happened: this rule
// exists on the audit side only.
import { groupsOf, isDryRun, usernameOf } from '../event.js';
import { isRecord } from '../../policies/subject.js';
import type { Severity } from '../../policies/types.js';
import type { AuditRule } from './types.js';

const AUTOMATIC_GROUPS: ReadonlySet<string> = new Set(['system:authenticated']);
const HIGH_GROUPS: ReadonlySet<string> = new Set(['system:masters', 'system:nodes']);

export const impersonationOfSystemIdentity: AuditRule = {
  id: 'impersonation-of-system-identity',
  title: 'Impersonation of a system identity',
  severity: 'high',
  tactics: ['Privilege Escalation', 'Defense Evasion'],
  remediation:
    "Find out who holds impersonate on users, groups or service accounts and why they acted as a system identity; remove impersonate from roles that do not need it (or restrict it with resourceNames) and treat the impersonator's credentials as compromised if the request was not planned.",
  skipDryRun: false,
  requires: ['impersonated'],
  match(f, ctx) {
    const ev = f.event;
    if (f.impersonator === undefined || !isRecord(ev.impersonatedUser)) return undefined;
    const name = usernameOf(ev.impersonatedUser);
    const systemGroups = groupsOf(ev.impersonatedUser).filter((g) => g.startsWith('system:') && !AUTOMATIC_GROUPS.has(g));
    const systemName = name.startsWith('system:');
    if (!systemName && systemGroups.length === 0) return undefined;
    const high =
      (systemName && (ctx.settings.isControlPlane(name) || name.startsWith('system:node:') || name === 'system:apiserver')) ||
      systemGroups.some((g) => HIGH_GROUPS.has(g));
    const severity: Severity = high ? 'high' : 'medium';
    const who = systemName ? `the system identity ${name}` : `${name || 'a user'} in the system groups ${systemGroups.join(', ')}`;
    const action = `${f.verb || 'request'} ${f.requestURI.split('?')[0] || '(unknown URI)'}`;
    return {
      message: `${f.impersonator} impersonated ${who} (${action})${isDryRun(ev) ? ' (dry run)' : ''}`,
      severity,
      namespace: '',
      resource: { group: '', version: '', kind: 'User', name: f.impersonator },
      evidence: { impersonator: f.impersonator, impersonatedUser: name, systemGroups, objectRef: ev.objectRef ?? null },
    };
  },
};
