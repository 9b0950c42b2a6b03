// pss-se-linux-options: seLinuxOptions.type is unset or one of the container types (container_engine_t
// from v1.31); user and role are unset.
import { anyContainer, containerBad, firstContainer, firstOf, hasChain, listLit, message, stringOr } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const problem = (o: string): string => `(!(${stringOr(o, 'type')} in ${listLit(TYPES)}) || ${stringOr(o, 'user')} != '' || ${stringOr(o, 'role')} != '')`;
const what = (o: string): string =>
  `[!(${stringOr(o, 'type')} in ${listLit(TYPES)}) ? 'type "' + ${stringOr(o, 'type')} + '"' : '', ` +
  `${stringOr(o, 'user')} != '' ? 'user may not be set' : '', ${stringOr(o, 'role')} != '' ? 'role may not be set' : ''].filter(s, s != '').join('; ')`;

export const pssSeLinuxOptions: CheckCompiler = {
  id: 'pss-se-linux-options',
  versions: ['v1.31'],
  compile(ctx) {
    const podOptions = 'variables.podSpec.securityContext.seLinuxOptions';
    const pod = `(${hasChain('variables.podSpec', 'securityContext.seLinuxOptions')} && ${problem(podOptions)})`;
    const bad = containerBad(ctx, `${hasChain('c', 'securityContext.seLinuxOptions')} && ${problem('c.securityContext.seLinuxOptions')}`);
    return {
      target: 'pod',
      validations: [
        {
          expression: `!(${pod} || ${anyContainer(bad)})`,
          messageExpression: message(
            this.id,
            firstOf(
              [{ when: pod, text: `'pod set forbidden securityContext.seLinuxOptions: ' + ${what(podOptions)}` }],
              firstContainer(bad, `' set forbidden securityContext.seLinuxOptions: ' + ${what('c.securityContext.seLinuxOptions')}`),
            ),
          ),
        },
      ],
    };
  },
};
