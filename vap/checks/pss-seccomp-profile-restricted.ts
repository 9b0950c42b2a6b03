// pss-seccomp-profile-restricted (v1.25): a non-windows pod sets seccompProfile.type RuntimeDefault or
// Localhost on the pod or on every container, and nowhere anything else.
import { anyContainer, cSc, containerBad, firstContainer, firstOf, hasChain, message, podSc, stringOr } from '../cel.js';
import type { CheckCompiler } from '../types.js';
import { badSeccomp } from './pss-seccomp-profile-baseline.js';

export const pssSeccompProfileRestricted: CheckCompiler = {
  id: 'pss-seccomp-profile-restricted',
  versions: ['v1.25'],
  compile(ctx) {
    const pod = podSc('seccompProfile', badSeccomp);
    const podSet = `(${hasChain('variables.podSpec', 'securityContext.seccompProfile')} && !${badSeccomp('variables.podSpec.securityContext.seccompProfile')})`;
    const wrong = cSc('seccompProfile', badSeccomp);
    const bad = containerBad(ctx, `${wrong} || (!${hasChain('c', 'securityContext.seccompProfile')} && !${podSet})`);
    return {
      target: 'pod',
      validations: [
        {
          expression: `${'(' + hasChain('variables.podSpec', 'os.name') + " && variables.podSpec.os.name == 'windows')"} || !(${pod} || ${anyContainer(bad)})`,
          messageExpression: message(
            this.id,
            firstOf(
              [
                {
                  when: pod,
                  text: `'pod must not set securityContext.seccompProfile.type to "' + ${stringOr('variables.podSpec', 'securityContext.seccompProfile.type')} + '"'`,
                },
              ],
              firstContainer(
                bad,
                `${hasChain('c', 'securityContext.seccompProfile')} ? ' must not set securityContext.seccompProfile.type to "' + ${stringOr('c', 'securityContext.seccompProfile.type')} + '"' : ' must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost" (or the pod must)'`,
              ),
            ),
          ),
        },
      ],
    };
  },
};
