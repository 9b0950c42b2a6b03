// appArmorProfile (baseline, v1.0+)
//
// On supported hosts, the RuntimeDefault AppArmor profile is applied by default. The baseline
// policy should prevent overriding or disabling the default AppArmor profile, or restrict
// overrides to an allowed set of profiles.
//
// Restricted Fields:
//   spec.securityContext.appArmorProfile.type
//   spec.containers[*].securityContext.appArmorProfile.type
//   spec.initContainers[*].securityContext.appArmorProfile.type
//   spec.ephemeralContainers[*].securityContext.appArmorProfile.type
// Allowed Values: RuntimeDefault, Localhost, undefined/null
//
// Restricted Fields:
//   metadata.annotations["container.apparmor.security.beta.kubernetes.io/*"]
// Allowed Values: runtime/default, localhost/*, empty, undefined/null
//
// Upstream has one version (v1.0) that checks both the annotations and the fields (added to
// the Kubernetes API in 1.30 and patched into the v1.0 check), so the fields count at every
// pinned version — as Pod Security Admission itself does.
import { containersOf, describeContainer, joinPath, podSecurityContextOf, quoteValue, securityContextOf } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, annotationPath, annotationsOf, isSet, quote, report, stringField, type PssCheckDefinition } from './check.js';

const ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function allowedType(type: string): boolean {
  return type === 'RuntimeDefault' || type === 'Localhost';
}

function allowedAnnotation(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return value === '' || value === 'runtime/default' || value.startsWith('localhost/');
}

export const appArmorProfile: PssCheckDefinition = {
  psaId: 'appArmorProfile',
  id: 'pss-app-armor-profile',
  level: 'baseline',
  title: 'AppArmor profile disabled or overridden',
  severity: 'medium',
  tactics: ['Defense Evasion', 'Privilege Escalation'],
  remediation: 'Leave appArmorProfile unset or use type RuntimeDefault or Localhost; remove "unconfined" AppArmor annotations.',
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        let findings: Finding[] | undefined;
        const podProfile = podSecurityContextOf(subject).appArmorProfile;
        if (isSet(podProfile)) {
          const type = stringField(podProfile, 'type');
          if (!allowedType(type)) {
            findings = report(
              findings,
              ctx,
              `pod must not set securityContext.appArmorProfile.type to ${quote(type)}`,
              joinPath(subject.specPath, 'securityContext.appArmorProfile.type'),
            );
          }
        }
        for (const ref of containersOf(subject)) {
          const profile = securityContextOf(ref.container).appArmorProfile;
          if (!isSet(profile)) continue;
          const type = stringField(profile, 'type');
          if (allowedType(type)) continue;
          findings = report(
            findings,
            ctx,
            `${describeContainer(ref)} must not set securityContext.appArmorProfile.type to ${quote(type)}`,
            joinPath(ref.path, 'securityContext.appArmorProfile.type'),
            ref.image,
          );
        }
        const annotations = annotationsOf(subject);
        for (const key in annotations) {
          if (!key.startsWith(ANNOTATION_PREFIX)) continue;
          const value = annotations[key];
          if (allowedAnnotation(value)) continue;
          findings = report(
            findings,
            ctx,
            `pod must not set annotation ${key}=${quoteValue(value)} (allowed: runtime/default, localhost/*)`,
            annotationPath(subject, key),
          );
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
