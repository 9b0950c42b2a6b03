// seccompProfile_baseline (baseline; v1.0 annotations, v1.19+ fields)
//
// If seccomp profiles are specified, only runtime default and localhost profiles are allowed.
//
// v1.0 - v1.18:
// Restricted Fields:
//   metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"]
//   metadata.annotations["container.seccomp.security.alpha.kubernetes.io/*"]
// Allowed Values: runtime/default, docker/default, localhost/*, undefined
//
// v1.19+:
// Restricted Fields:
//   spec.securityContext.seccompProfile.type
//   spec.containers[*].securityContext.seccompProfile.type
//   spec.initContainers[*].securityContext.seccompProfile.type
//   spec.ephemeralContainers[*].securityContext.seccompProfile.type
// Allowed Values: RuntimeDefault, Localhost, undefined
//
// In the restricted set, seccompProfile_restricted overrides this check from v1.19.
import { containersOf, describeContainer, joinPath, podSecurityContextOf, quoteValue, securityContextOf } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, annotationPath, annotationsOf, isSet, quote, report, stringField, type PssCheckDefinition } from './check.js';

export const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
export const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

/** RuntimeDefault or Localhost: the seccompProfile types both levels accept. */
export function validSeccompType(type: string): boolean {
  return type === 'RuntimeDefault' || type === 'Localhost';
}

function validAnnotation(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return value === 'runtime/default' || value === 'docker/default' || value.startsWith('localhost/');
}

export const seccompProfileBaseline: PssCheckDefinition = {
  psaId: 'seccompProfile_baseline',
  id: 'pss-seccomp-profile-baseline',
  level: 'baseline',
  title: 'Seccomp disabled',
  severity: 'medium',
  tactics: ['Defense Evasion', 'Privilege Escalation'],
  remediation: 'Use seccompProfile type RuntimeDefault or Localhost, never Unconfined.',
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        const annotations = annotationsOf(subject);
        let findings: Finding[] | undefined;
        if (SECCOMP_POD_ANNOTATION in annotations) {
          const value = annotations[SECCOMP_POD_ANNOTATION];
          if (!validAnnotation(value)) {
            findings = report(
              findings,
              ctx,
              `pod must not set annotation ${SECCOMP_POD_ANNOTATION}=${quoteValue(value)}`,
              annotationPath(subject, SECCOMP_POD_ANNOTATION),
            );
          }
        }
        for (const ref of containersOf(subject)) {
          const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + stringField(ref.container, 'name');
          if (!(key in annotations)) continue;
          const value = annotations[key];
          if (validAnnotation(value)) continue;
          findings = report(
            findings,
            ctx,
            `${describeContainer(ref)} must not be given annotation ${key}=${quoteValue(value)}`,
            annotationPath(subject, key),
            ref.image,
          );
        }
        return findings ?? NO_FINDINGS;
      },
    },
    {
      minimumVersion: 'v1.19',
      evaluate(subject, ctx) {
        let findings: Finding[] | undefined;
        const podProfile = podSecurityContextOf(subject).seccompProfile;
        if (isSet(podProfile)) {
          const type = stringField(podProfile, 'type');
          if (!validSeccompType(type)) {
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
          if (!isSet(profile)) continue;
          const type = stringField(profile, 'type');
          if (validSeccompType(type)) continue;
          findings = report(
            findings,
            ctx,
            `${describeContainer(ref)} must not set securityContext.seccompProfile.type to ${quote(type)}`,
            joinPath(ref.path, 'securityContext.seccompProfile.type'),
            ref.image,
          );
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
