// pss-run-as-non-root (v1.35): runAsNonRoot is true on the pod or on every container, never false;
// not checked for pods with hostUsers: false.
import { anyContainer, containerBad, fieldIs, firstContainer, firstOf, lit, message, USER_NAMESPACE_POD } from '../cel.js';
import type { CheckCompiler } from '../types.js';

export const pssRunAsNonRoot: CheckCompiler = {
  id: 'pss-run-as-non-root',
  versions: ['v1.35'],
  compile(ctx) {
    const pod = fieldIs('variables.podSpec', 'securityContext.runAsNonRoot', 'false');
    const podTrue = fieldIs('variables.podSpec', 'securityContext.runAsNonRoot', 'true');
    const explicitFalse = fieldIs('c', 'securityContext.runAsNonRoot', 'false');
    const bad = containerBad(ctx, `${explicitFalse} || (!${fieldIs('c', 'securityContext.runAsNonRoot', 'true')} && !${podTrue})`);
    return {
      target: 'pod',
      validations: [
        {
          expression: `${USER_NAMESPACE_POD} || !(${pod} || ${anyContainer(bad)})`,
          messageExpression: message(
            this.id,
            firstOf(
              [{ when: pod, text: lit('pod must not set securityContext.runAsNonRoot=false') }],
              firstContainer(
                bad,
                `${explicitFalse} ? ' must not set securityContext.runAsNonRoot=false' : ' must set securityContext.runAsNonRoot=true (or the pod must)'`,
              ),
            ),
          ),
        },
      ],
    };
  },
};
