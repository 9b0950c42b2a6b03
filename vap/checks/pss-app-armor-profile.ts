// pss-app-armor-profile: appArmorProfile.type is RuntimeDefault or Localhost (pod and containers),
// and container.apparmor.security.beta.kubernetes.io/* annotations are runtime/default, localhost/* or empty.
import { anyContainer, cSc, containerBad, firstContainer, firstOf, lit, message, podSc, stringOr } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const badType = (v: string): string => `!(${stringOr(v, 'type')} in ['RuntimeDefault', 'Localhost'])`;
const ANNOTATIONS = 'variables.annotations';
const badAnnotation = (k: string): string =>
  `${k}.startsWith(${lit(PREFIX)}) && !(${ANNOTATIONS}[${k}] == '' || ${ANNOTATIONS}[${k}] == 'runtime/default' || ${ANNOTATIONS}[${k}].startsWith('localhost/'))`;

export const pssAppArmorProfile: CheckCompiler = {
  id: 'pss-app-armor-profile',
  versions: ['v1.0'],
  compile(ctx) {
    const pod = podSc('appArmorProfile', badType);
    const bad = containerBad(ctx, cSc('appArmorProfile', badType));
    const annotation = `${ANNOTATIONS}.exists(k, ${badAnnotation('k')})`;
    const first = `${ANNOTATIONS}.filter(k, ${badAnnotation('k')})[0]`;
    return {
      target: 'pod',
      validations: [
        {
          expression: `!(${pod} || ${anyContainer(bad)} || ${annotation})`,
          messageExpression: message(
            this.id,
            firstOf(
              [
                {
                  when: pod,
                  text: `'pod must not set securityContext.appArmorProfile.type to "' + ${stringOr('variables.podSpec', 'securityContext.appArmorProfile.type')} + '"'`,
                },
                {
                  when: anyContainer(bad),
                  text: firstContainer(
                    bad,
                    `' must not set securityContext.appArmorProfile.type to "' + ${stringOr('c', 'securityContext.appArmorProfile.type')} + '"'`,
                  ),
                },
              ],
              `'pod must not set annotation ' + ${first} + '="' + ${ANNOTATIONS}[${first}] + '" (allowed: runtime/default, localhost/*)'`,
            ),
          ),
        },
      ],
    };
  },
};
