// anonymous-binding — flags a RoleBinding or ClusterRoleBinding with the subject User
// `system:anonymous` or Group `system:unauthenticated` (one finding per such subject): whatever the
// bound role grants, it grants to every request that presents no credentials at all, from anyone
// who can reach the API server. The subject's apiGroup is not looked at: rbac/v1 defaults a
// missing one to rbac.authorization.k8s.io, so a binding that omits it still grants.
// `system:authenticated` is not flagged: it is every authenticated identity, a different (and
// common) choice.
import { NO_FINDINGS, describeObject, describeRbacSubject, isRecord } from '../helpers.js';
import type { BindingSubject, Check, Finding } from '../types.js';

function isAnonymous(s: Record<string, unknown>): boolean {
  return (s.kind === 'User' && s.name === 'system:anonymous') || (s.kind === 'Group' && s.name === 'system:unauthenticated');
}

export const anonymousBinding: Check<BindingSubject> = {
  id: 'anonymous-binding',
  title: 'Binding grants access to anonymous users',
  severity: 'high',
  tactics: ['Initial Access', 'Privilege Escalation'],
  remediation: 'Remove system:anonymous and system:unauthenticated from the binding subjects; bind named users, groups or service accounts instead.',
  appliesTo: ['binding'],
  evaluate(subject) {
    let findings: Finding[] | undefined;
    const subjects = subject.subjects;
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[i];
      if (!isRecord(s) || !isAnonymous(s)) continue;
      const roleRef = subject.roleRef;
      const role =
        typeof roleRef.name === 'string'
          ? `${roleRef.kind === 'Role' || roleRef.kind === 'ClusterRole' ? roleRef.kind : 'role'} ${JSON.stringify(roleRef.name)}`
          : 'its role';
      (findings ??= []).push({
        policy: anonymousBinding.id,
        severity: anonymousBinding.severity,
        message: `${describeObject(subject.ref)} grants ${role} to ${describeRbacSubject(s)}: every request without credentials gets it`,
        path: `subjects[${i}]`,
      });
    }
    return findings ?? NO_FINDINGS;
  },
};
