// runAsUser (restricted; v1.23+, v1.35 relaxes user-namespace pods)
//
// Containers must not set runAsUser to 0.
//
// Restricted Fields:
//   spec.securityContext.runAsUser
//   spec.containers[*].securityContext.runAsUser
//   spec.initContainers[*].securityContext.runAsUser
//   spec.ephemeralContainers[*].securityContext.runAsUser
// Allowed Values: any non-zero value, undefined/null.
// From v1.35 not checked when spec.hostUsers is false.
import { containersOf, describeContainer, joinPath, podSecurityContextOf, securityContextOf } from '../helpers.js';
import type { Finding, PodSubject } from '../types.js';
import { NO_FINDINGS, report, usesUserNamespace, type PssContext, type PssCheckDefinition } from './check.js';

function forbidRoot(subject: PodSubject, ctx: PssContext): Finding[] {
  let findings: Finding[] | undefined;
  if (podSecurityContextOf(subject).runAsUser === 0) {
    findings = report(findings, ctx, 'pod must not set securityContext.runAsUser=0', joinPath(subject.specPath, 'securityContext.runAsUser'));
  }
  for (const ref of containersOf(subject)) {
    if (securityContextOf(ref.container).runAsUser !== 0) continue;
    findings = report(
      findings,
      ctx,
      `${describeContainer(ref)} must not set securityContext.runAsUser=0`,
      joinPath(ref.path, 'securityContext.runAsUser'),
      ref.image,
    );
  }
  return findings ?? NO_FINDINGS;
}

export const runAsUser: PssCheckDefinition = {
  psaId: 'runAsUser',
  id: 'pss-run-as-user',
  level: 'restricted',
  title: 'Container runs as UID 0',
  severity: 'medium',
  tactics: ['Privilege Escalation'],
  remediation: 'Remove runAsUser: 0 from the pod and its containers; use a non-zero UID.',
  versions: [
    { minimumVersion: 'v1.23', evaluate: forbidRoot },
    {
      minimumVersion: 'v1.35',
      evaluate(subject, ctx) {
        return usesUserNamespace(subject) ? NO_FINDINGS : forbidRoot(subject, ctx);
      },
    },
  ],
};
