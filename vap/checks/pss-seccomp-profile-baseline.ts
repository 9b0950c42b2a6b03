// pss-seccomp-profile-baseline (v1.19 fields): seccompProfile.type, where set, is RuntimeDefault or Localhost.
import { anyContainer, cSc, containerBad, firstContainer, firstOf, message, podSc, stringOr } from '../cel.js';
import type { CheckCompiler } from '../types.js';

export const badSeccomp = (v: string): string => `!(${stringOr(v, 'type')} in ['RuntimeDefault', 'Localhost'])`;

export const pssSeccompProfileBaseline: CheckCompiler = {
  id: 'pss-seccomp-profile-baseline',
  versions: ['v1.19'],
  compile(ctx) {
    const pod = podSc('seccompProfile', badSeccomp);
    const bad = containerBad(ctx, cSc('seccompProfile', badSeccomp));
    return {
      target: 'pod',
      validations: [
        {
          expression: `!(${pod} || ${anyContainer(bad)})`,
          messageExpression: message(
            this.id,
            firstOf(
              [
                {
                  when: pod,
                  text: `'pod must not set securityContext.seccompProfile.type to "' + ${stringOr('variables.podSpec', 'securityContext.seccompProfile.type')} + '"'`,
                },
              ],
              firstContainer(bad, `' must not set securityContext.seccompProfile.type to "' + ${stringOr('c', 'securityContext.seccompProfile.type')} + '"'`),
            ),
          ),
        },
      ],
    };
  },
};
