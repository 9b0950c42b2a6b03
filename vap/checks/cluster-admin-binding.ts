// cluster-admin-binding: no RoleBinding or ClusterRoleBinding whose roleRef is the ClusterRole cluster-admin.
import { DESCRIBE_OBJECT, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

/** (`namespace` is a CEL reserved word, so the subject's namespace is read by index.) */
/** `User "alice"`, `ServiceAccount "ns/sa"`, `subject "x" of kind "Robot"`, as describeRbacSubject writes them. */
export const DESCRIBE_SUBJECT =
  `(s.kind in ['User', 'Group', 'ServiceAccount'] ? s.kind : 'subject') + ' "' + ` +
  `(s.kind == 'ServiceAccount' && 'namespace' in s && s['namespace'] != '' ? s['namespace'] + '/' : '') + s.name + '"' + ` +
  `(s.kind in ['User', 'Group', 'ServiceAccount'] || s.kind == '' ? '' : ' of kind "' + s.kind + '"')`;

export const clusterAdminBinding: CheckCompiler = {
  id: 'cluster-admin-binding',
  compile() {
    const scope = `(object.kind == 'ClusterRoleBinding' ? 'the whole cluster' : 'namespace "' + request.namespace + '"')`;
    const whom = `(has(object.subjects) && size(object.subjects) > 0 ? object.subjects.map(s, ${DESCRIBE_SUBJECT}).join(', ') : 'no subjects yet')`;
    return {
      target: 'binding',
      validations: [
        {
          expression: `!(object.roleRef.kind == 'ClusterRole' && object.roleRef.name == 'cluster-admin')`,
          messageExpression: message(this.id, `${DESCRIBE_OBJECT} + ' grants cluster-admin over ' + ${scope} + ' to ' + ${whom}`),
        },
      ],
    };
  },
};
