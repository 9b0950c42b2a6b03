// cluster-admin-binding — flags a RoleBinding or ClusterRoleBinding whose roleRef is the
// ClusterRole `cluster-admin`: unrestricted control of the whole cluster (through a
// ClusterRoleBinding) or of the whole namespace, its secrets and service accounts included
// (through a RoleBinding). Bindings to cluster-admin should be rare, deliberate and reviewed;
// a new one is a classic persistence step after a compromise.
import { NO_FINDINGS, describeObject, describeRbacSubject } from '../helpers.js';
import type { BindingSubject, Check } from '../types.js';

const CLUSTER_ADMIN = 'cluster-admin';

export const clusterAdminBinding: Check<BindingSubject> = {
  id: 'cluster-admin-binding',
  title: 'Binding to cluster-admin',
  severity: 'high',
  tactics: ['Privilege Escalation', 'Persistence'],
  remediation: 'Bind a role that grants only what the subjects need (view, edit, admin or a custom role); keep cluster-admin for break-glass accounts.',
  appliesTo: ['binding'],
  evaluate(subject) {
    const roleRef = subject.roleRef;
    if (roleRef.kind !== 'ClusterRole' || roleRef.name !== CLUSTER_ADMIN) return NO_FINDINGS;
    const subjects = subject.subjects;
    const whom = subjects.length ? subjects.map(describeRbacSubject).join(', ') : 'no subjects yet';
    const scope = subject.clusterScoped ? 'the whole cluster' : `namespace ${JSON.stringify(subject.ref.namespace)}`;
    return [
      {
        policy: clusterAdminBinding.id,
        severity: clusterAdminBinding.severity,
        message: `${describeObject(subject.ref)} grants cluster-admin over ${scope} to ${whom}`,
        path: 'roleRef.name',
      },
    ];
  },
};
