// privileged (baseline, v1.0+)
//
// Privileged Pods disable most security mechanisms and must be disallowed.
//
// Restricted Fields:
//   spec.containers[*].securityContext.privileged
//   spec.initContainers[*].securityContext.privileged
//   spec.ephemeralContainers[*].securityContext.privileged
// Allowed Values: false, undefined/null
import { containersOf, describeContainer, joinPath, securityContextOf } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, report, type PssCheckDefinition } from './check.js';

export const privileged: PssCheckDefinition = {
  psaId: 'privileged',
  id: 'pss-privileged',
  level: 'baseline',
  title: 'Privileged container',
  severity: 'high',
  tactics: ['Privilege Escalation'],
  remediation: 'Remove securityContext.privileged from every container (or set it to false).',
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        let findings: Finding[] | undefined;
        for (const ref of containersOf(subject)) {
          if (securityContextOf(ref.container).privileged !== true) continue;
          findings = report(
            findings,
            ctx,
            `${describeContainer(ref)} must not set securityContext.privileged=true`,
            joinPath(ref.path, 'securityContext.privileged'),
            ref.image,
          );
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
