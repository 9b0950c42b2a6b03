// kube-system-workload: no pod-bearing object in a system namespace (lists.systemNamespaces, default
// kube-system and kube-public) from a user outside lists.systemWorkloadUsers (globs, default system:*).
import { globToRegExp } from '../../core/glob.js';
import { listOf } from '../../policies/lists.js';
import { DESCRIBE_OBJECT, listLit, lit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

// `namespace` is a CEL reserved word: the request's namespace is read instead of object.metadata.namespace.
const NAMESPACE = 'request.namespace';
const USER = 'request.userInfo.username';

export const kubeSystemWorkload: CheckCompiler = {
  id: 'kube-system-workload',
  compile(ctx) {
    const namespaces = listOf(ctx.lists, 'systemNamespaces');
    const users = listOf(ctx.lists, 'systemWorkloadUsers');
    const who = `(${USER} != '' ? 'by user "' + ${USER} + '"' : 'by an unnamed user')`;
    // The engine's glob (core/glob.ts) as one anchored RE2 pattern; `system:*` stays a cheap prefix test.
    const allowed =
      users.length === 0
        ? 'false'
        : users
            .map((g) => (/^[^*?]*\*$/.test(g) ? `${USER}.startsWith(${lit(g.slice(0, -1))})` : `${USER}.matches(${lit(globToRegExp(g).source)})`))
            .join(' || ');
    return {
      target: 'pod',
      validations: [
        {
          expression: namespaces.length === 0 ? 'true' : `!(${NAMESPACE} in ${listLit(namespaces)} && !(${USER} != '' && (${allowed})))`,
          messageExpression: message(
            this.id,
            `${DESCRIBE_OBJECT} + ' is submitted to namespace ' + ${NAMESPACE} + ' ' + ${who} + ', which is not a system: identity'`,
          ),
        },
      ],
    };
  },
};
