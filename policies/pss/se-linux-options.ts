// seLinuxOptions (baseline, v1.0+; v1.31 adds container_engine_t)
//
// Setting the SELinux type is restricted, and setting a custom SELinux user or role option is
// forbidden.
//
// Restricted Fields:
//   spec.securityContext.seLinuxOptions.type
//   spec.containers[*].securityContext.seLinuxOptions.type
//   spec.initContainers[*].securityContext.seLinuxOptions.type
//   spec.ephemeralContainers[*].securityContext.seLinuxOptions.type
// Allowed Values: undefined/"", container_t, container_init_t, container_kvm_t,
//   container_engine_t (since v1.31)
//
// Restricted Fields:
//   spec.securityContext.seLinuxOptions.user / .role
//   spec.containers[*].securityContext.seLinuxOptions.user / .role
//   spec.initContainers[*].securityContext.seLinuxOptions.user / .role
//   spec.ephemeralContainers[*].securityContext.seLinuxOptions.user / .role
// Allowed Values: undefined/""
import { containersOf, describeContainer, joinPath, podSecurityContextOf, securityContextOf } from '../helpers.js';
import type { Finding, PodSubject } from '../types.js';
import { NO_FINDINGS, isSet, quote, report, stringField, type PssContext, type PssCheckDefinition } from './check.js';

const ALLOWED_TYPES_1_0: ReadonlySet<string> = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const ALLOWED_TYPES_1_31: ReadonlySet<string> = new Set([...ALLOWED_TYPES_1_0, 'container_engine_t']);

/** What is wrong with one seLinuxOptions, and the path of the first bad field; undefined when valid. */
function problems(options: unknown, allowed: ReadonlySet<string>): { what: string; field: string } | undefined {
  const type = stringField(options, 'type');
  const user = stringField(options, 'user');
  const role = stringField(options, 'role');
  let what = '';
  let field = '';
  if (!allowed.has(type)) {
    what = `type ${quote(type)}`;
    field = 'type';
  }
  if (user) {
    what += (what ? '; ' : '') + 'user may not be set';
    field ||= 'user';
  }
  if (role) {
    what += (what ? '; ' : '') + 'role may not be set';
    field ||= 'role';
  }
  return what ? { what, field } : undefined;
}

function evaluateWith(allowed: ReadonlySet<string>) {
  return (subject: PodSubject, ctx: PssContext): Finding[] => {
    let findings: Finding[] | undefined;
    const podOptions = podSecurityContextOf(subject).seLinuxOptions;
    if (isSet(podOptions)) {
      const bad = problems(podOptions, allowed);
      if (bad) {
        findings = report(
          findings,
          ctx,
          `pod set forbidden securityContext.seLinuxOptions: ${bad.what}`,
          joinPath(subject.specPath, `securityContext.seLinuxOptions.${bad.field}`),
        );
      }
    }
    for (const ref of containersOf(subject)) {
      const options = securityContextOf(ref.container).seLinuxOptions;
      if (!isSet(options)) continue;
      const bad = problems(options, allowed);
      if (!bad) continue;
      findings = report(
        findings,
        ctx,
        `${describeContainer(ref)} set forbidden securityContext.seLinuxOptions: ${bad.what}`,
        joinPath(ref.path, `securityContext.seLinuxOptions.${bad.field}`),
        ref.image,
      );
    }
    return findings ?? NO_FINDINGS;
  };
}

export const seLinuxOptions: PssCheckDefinition = {
  psaId: 'seLinuxOptions',
  id: 'pss-se-linux-options',
  level: 'baseline',
  title: 'Custom SELinux options',
  severity: 'medium',
  tactics: ['Defense Evasion', 'Privilege Escalation'],
  remediation:
    'Remove seLinuxOptions.user and .role; leave seLinuxOptions.type unset or use container_t, container_init_t, container_kvm_t or container_engine_t.',
  versions: [
    { minimumVersion: 'v1.0', evaluate: evaluateWith(ALLOWED_TYPES_1_0) },
    { minimumVersion: 'v1.31', evaluate: evaluateWith(ALLOWED_TYPES_1_31) },
  ],
};
