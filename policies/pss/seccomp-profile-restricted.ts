// seccompProfile_restricted (restricted; v1.19+, v1.25 exempts windows pods)
//
// Seccomp profile must be explicitly set to one of the allowed values. Both the Unconfined
// profile and the absence of a profile are prohibited. This is a Linux only policy in v1.25+
// (spec.os.name != windows).
//
// Restricted Fields:
//   spec.securityContext.seccompProfile.type
//   spec.containers[*].securityContext.seccompProfile.type
//   spec.initContainers[*].securityContext.seccompProfile.type
//   spec.ephemeralContainers[*].securityContext.seccompProfile.type
// Allowed Values: RuntimeDefault, Localhost.
// The container fields may be undefined/null if the pod-level field is set to an allowed value.
//
// Overrides seccompProfile_baseline.
import { containersOf, describeContainer, joinPath, podSecurityContextOf, securityContextOf } from '../helpers.js';
import type { Finding, PodSubject } from '../types.js';
import { NO_FINDINGS, isSet, isWindowsPod, quote, report, stringField, type PssContext, type PssCheckDefinition } from './check.js';
import { validSeccompType } from './seccomp-profile-baseline.js';

function requireProfile(subject: PodSubject, ctx: PssContext): Finding[] {
  let findings: Finding[] | undefined;
  let podSet = false;
  const podProfile = podSecurityContextOf(subject).seccompProfile;
  if (isSet(podProfile)) {
    const type = stringField(podProfile, 'type');
    if (validSeccompType(type)) podSet = true;
    else {
      findings = report(
        findings,
        ctx,
        `pod must not set securityContext.seccompProfile.type to ${quote(type)}`,
        joinPath(subject.specPath, 'securityContext.seccompProfile.type'),
      );
    }
  }
  for (const ref of containersOf(subject)) {
    const profile = securityContextOf(ref.container).seccompProfile;
    if (isSet(profile)) {
      const type = stringField(profile, 'type');
      if (validSeccompType(type)) continue;
      findings = report(
        findings,
        ctx,
        `${describeContainer(ref)} must not set securityContext.seccompProfile.type to ${quote(type)}`,
        joinPath(ref.path, 'securityContext.seccompProfile.type'),
        ref.image,
      );
    } else if (!podSet) {
      findings = report(
        findings,
        ctx,
        `${describeContainer(ref)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost" (or the pod must)`,
        joinPath(ref.path, 'securityContext.seccompProfile.type'),
        ref.image,
      );
    }
  }
  return findings ?? NO_FINDINGS;
}

export const seccompProfileRestricted: PssCheckDefinition = {
  psaId: 'seccompProfile_restricted',
  id: 'pss-seccomp-profile-restricted',
  level: 'restricted',
  title: 'Seccomp profile not set',
  severity: 'low',
  tactics: ['Defense Evasion', 'Privilege Escalation'],
  remediation: 'Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost with a profile).',
  overrides: ['seccompProfile_baseline'],
  versions: [
    { minimumVersion: 'v1.19', evaluate: requireProfile },
    {
      minimumVersion: 'v1.25',
      evaluate(subject, ctx) {
        return isWindowsPod(subject) ? NO_FINDINGS : requireProfile(subject, ctx);
      },
    },
  ],
};
