// kube-system-workload: no pod-bearing object in kube-system or kube-public from a user whose name does not
// start with system:.
import { DESCRIBE_OBJECT, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

// `namespace` is a CEL reserved word: the request's namespace is read instead of object.metadata.namespace.
const NAMESPACE = 'request.namespace';

export const kubeSystemWorkload: CheckCompiler = {
  id: 'kube-system-workload',
  compile() {
    const who = `(request.userInfo.username != '' ? 'by user "' + request.userInfo.username + '"' : 'by an unnamed user')`;
    return {
      target: 'pod',
      validations: [
        {
          expression: `!(${NAMESPACE} in ['kube-system', 'kube-public'] && !request.userInfo.username.startsWith('system:'))`,
          messageExpression: message(
            this.id,
            `${DESCRIBE_OBJECT} + ' is submitted to namespace ' + ${NAMESPACE} + ' ' + ${who} + ', which is not a system: identity'`,
          ),
        },
      ],
    };
  },
};
