// kube-system-workload: no pod-bearing object in kube-system from a user whose name does not start with system:.
import { DESCRIBE_OBJECT, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const NAMESPACE = `(has(object.metadata.namespace) && object.metadata.namespace != '' ? object.metadata.namespace : request.namespace)`;

export const kubeSystemWorkload: CheckCompiler = {
  id: 'kube-system-workload',
  compile() {
    const who = `(request.userInfo.username != '' ? 'by user "' + request.userInfo.username + '"' : 'by an unnamed user')`;
    return {
      target: 'pod',
      validations: [{
        expression: `!(${NAMESPACE} == 'kube-system' && !request.userInfo.username.startsWith('system:'))`,
        messageExpression: message(this.id, `${DESCRIBE_OBJECT} + ' is submitted to namespace kube-system ' + ${who} + ', which is not a system: identity'`),
      }],
    };
  },
};
