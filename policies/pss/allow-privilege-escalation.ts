// allowPrivilegeEscalation (restricted; v1.8+, v1.25 exempts windows pods)
//
// Privilege escalation (such as via set-user-ID or set-group-ID file mode) should not be allowed.
// This is a Linux only policy in v1.25+ (spec.os.name != windows).
//
// Restricted Fields:
//   spec.containers[*].securityContext.allowPrivilegeEscalation
//   spec.initContainers[*].securityContext.allowPrivilegeEscalation
//   spec.ephemeralContainers[*].securityContext.allowPrivilegeEscalation
// Allowed Values: false
import { containersOf, describeContainer, joinPath, securityContextOf } from '../helpers.js';
import type { Finding, PodSubject } from '../types.js';
import { NO_FINDINGS, isWindowsPod, report, type PssContext, type PssCheckDefinition } from './check.js';

function requireFalse(subject: PodSubject, ctx: PssContext): Finding[] {
  let findings: Finding[] | undefined;
  for (const ref of containersOf(subject)) {
    if (securityContextOf(ref.container).allowPrivilegeEscalation === false) continue;
    findings = report(
      findings,
      ctx,
      `${describeContainer(ref)} must set securityContext.allowPrivilegeEscalation=false`,
      joinPath(ref.path, 'securityContext.allowPrivilegeEscalation'),
      ref.image,
    );
  }
  return findings ?? NO_FINDINGS;
}

export const allowPrivilegeEscalation: PssCheckDefinition = {
  psaId: 'allowPrivilegeEscalation',
  id: 'pss-allow-privilege-escalation',
  level: 'restricted',
  title: 'Privilege escalation allowed',
  severity: 'medium',
  tactics: ['Privilege Escalation'],
  remediation: 'Set securityContext.allowPrivilegeEscalation: false on every container.',
  versions: [
    { minimumVersion: 'v1.8', evaluate: requireFalse },
    {
      minimumVersion: 'v1.25',
      evaluate(subject, ctx) {
        return isWindowsPod(subject) ? NO_FINDINGS : requireFalse(subject, ctx);
      },
    },
  ],
};
