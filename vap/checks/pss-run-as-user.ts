// pss-run-as-user (v1.35): runAsUser is never 0 (pod and containers); not checked for pods with hostUsers: false.
import { anyContainer, containerBad, fieldIs, firstContainer, firstOf, lit, message, USER_NAMESPACE_POD } from '../cel.js';
import type { CheckCompiler } from '../types.js';

export const pssRunAsUser: CheckCompiler = {
  id: 'pss-run-as-user',
  versions: ['v1.35'],
  compile(ctx) {
    const pod = fieldIs('variables.podSpec', 'securityContext.runAsUser', '0');
    const bad = containerBad(ctx, fieldIs('c', 'securityContext.runAsUser', '0'));
    return {
      target: 'pod',
      validations: [
        {
          expression: `${USER_NAMESPACE_POD} || !(${pod} || ${anyContainer(bad)})`,
          messageExpression: message(
            this.id,
            firstOf(
              [{ when: pod, text: lit('pod must not set securityContext.runAsUser=0') }],
              `${firstContainer(bad)} + ' must not set securityContext.runAsUser=0'`,
            ),
          ),
        },
      ],
    };
  },
};
