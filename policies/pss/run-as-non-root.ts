// runAsNonRoot (restricted; v1.0+, v1.35 relaxes user-namespace pods)
//
// Containers must be required to run as non-root users.
//
// Restricted Fields:
//   spec.securityContext.runAsNonRoot
//   spec.containers[*].securityContext.runAsNonRoot
//   spec.initContainers[*].securityContext.runAsNonRoot
//   spec.ephemeralContainers[*].securityContext.runAsNonRoot
// Allowed Values: true; undefined/null at container level if the pod level is true.
// From v1.35 not checked when spec.hostUsers is false (root in a user namespace is not root on
// the node).
import { containersOf, describeContainer, joinPath, podSecurityContextOf, securityContextOf } from '../helpers.js';
import type { Finding, PodSubject } from '../types.js';
import { NO_FINDINGS, report, usesUserNamespace, type PssContext, type PssCheckDefinition } from './check.js';

function requireNonRoot(subject: PodSubject, ctx: PssContext): Finding[] {
  let findings: Finding[] | undefined;
  const podValue = podSecurityContextOf(subject).runAsNonRoot;
  if (podValue === false) {
    findings = report(findings, ctx, 'pod must not set securityContext.runAsNonRoot=false', joinPath(subject.specPath, 'securityContext.runAsNonRoot'));
  }
  const podNonRoot = podValue === true;
  for (const ref of containersOf(subject)) {
    const value = securityContextOf(ref.container).runAsNonRoot;
    if (value === true) continue;
    if (value === false) {
      findings = report(
        findings,
        ctx,
        `${describeContainer(ref)} must not set securityContext.runAsNonRoot=false`,
        joinPath(ref.path, 'securityContext.runAsNonRoot'),
        ref.image,
      );
    } else if (!podNonRoot) {
      findings = report(
        findings,
        ctx,
        `${describeContainer(ref)} must set securityContext.runAsNonRoot=true (or the pod must)`,
        joinPath(ref.path, 'securityContext.runAsNonRoot'),
        ref.image,
      );
    }
  }
  return findings ?? NO_FINDINGS;
}

export const runAsNonRoot: PssCheckDefinition = {
  psaId: 'runAsNonRoot',
  id: 'pss-run-as-non-root',
  level: 'restricted',
  title: 'Container may run as root',
  severity: 'medium',
  tactics: ['Privilege Escalation'],
  remediation: 'Set spec.securityContext.runAsNonRoot: true (or on every container), and run the image as a non-zero UID.',
  versions: [
    { minimumVersion: 'v1.0', evaluate: requireNonRoot },
    {
      minimumVersion: 'v1.35',
      evaluate(subject, ctx) {
        return usesUserNamespace(subject) ? NO_FINDINGS : requireNonRoot(subject, ctx);
      },
    },
  ],
};
