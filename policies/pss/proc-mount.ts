// procMount (baseline, v1.0+; relaxed for user-namespace pods from v1.35)
//
// The default /proc masks are set up to reduce attack surface, and should be required, unless
// the pod is in a user namespace ("hostUsers: false").
//
// Restricted Fields:
//   spec.containers[*].securityContext.procMount
//   spec.initContainers[*].securityContext.procMount
//   spec.ephemeralContainers[*].securityContext.procMount
// Allowed Values: undefined/null, "Default"; from v1.35 any value when spec.hostUsers is false
//
// In the restricted set, procMount_restricted overrides this check from v1.35 (no relaxation).
import { containersOf, describeContainer, joinPath, quoteValue, securityContextOf } from '../helpers.js';
import type { Finding, PodSubject } from '../types.js';
import { NO_FINDINGS, isSet, report, usesUserNamespace, type PssContext, type PssCheckDefinition } from './check.js';

/** The unconditional check: any procMount but Default is forbidden. Shared with procMount_restricted. */
export function procMountDefaultOnly(subject: PodSubject, ctx: PssContext): Finding[] {
  let findings: Finding[] | undefined;
  for (const ref of containersOf(subject)) {
    const procMount = securityContextOf(ref.container).procMount;
    if (!isSet(procMount) || procMount === 'Default') continue;
    findings = report(
      findings,
      ctx,
      `${describeContainer(ref)} must not set securityContext.procMount to ${quoteValue(procMount)}`,
      joinPath(ref.path, 'securityContext.procMount'),
      ref.image,
    );
  }
  return findings ?? NO_FINDINGS;
}

export const procMount: PssCheckDefinition = {
  psaId: 'procMount',
  id: 'pss-proc-mount',
  level: 'baseline',
  title: 'Unmasked /proc mount',
  severity: 'medium',
  tactics: ['Privilege Escalation', 'Discovery'],
  remediation: 'Remove securityContext.procMount (or set it to Default).',
  versions: [
    { minimumVersion: 'v1.0', evaluate: procMountDefaultOnly },
    {
      minimumVersion: 'v1.35',
      evaluate(subject, ctx) {
        return usesUserNamespace(subject) ? NO_FINDINGS : procMountDefaultOnly(subject, ctx);
      },
    },
  ],
};
