// anonymous-binding: no binding subject is User system:anonymous or Group system:unauthenticated.
import { DESCRIBE_OBJECT, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';
import { DESCRIBE_SUBJECT } from './cluster-admin-binding.js';

const ANONYMOUS = `((s.kind == 'User' && s.name == 'system:anonymous') || (s.kind == 'Group' && s.name == 'system:unauthenticated'))`;

export const anonymousBinding: CheckCompiler = {
  id: 'anonymous-binding',
  compile() {
    const role = `(object.roleRef.kind in ['Role', 'ClusterRole'] ? object.roleRef.kind : 'role') + ' "' + object.roleRef.name + '"'`;
    return {
      target: 'binding',
      validations: [
        {
          expression: `!(has(object.subjects) && object.subjects.exists(s, ${ANONYMOUS}))`,
          messageExpression: message(
            this.id,
            `${DESCRIBE_OBJECT} + ' grants ' + ${role} + ' to ' + object.subjects.filter(s, ${ANONYMOUS}).map(s, ${DESCRIBE_SUBJECT})[0] + ': every request without credentials gets it'`,
          ),
        },
      ],
    };
  },
};
