// pss-sysctls (v1.37 list): spec.securityContext.sysctls names only safe, namespaced sysctls.
import { SAFE_SYSCTLS } from '../../policies/pss/sysctls.js';
import { hasChain, listLit, message, stringOr } from '../cel.js';
import type { CheckCompiler } from '../types.js';

export const pssSysctls: CheckCompiler = {
  id: 'pss-sysctls',
  versions: ['v1.37'],
  compile() {
    const allowed = listLit(SAFE_SYSCTLS['v1.37']!);
    const list = 'variables.podSpec.securityContext.sysctls';
    const bad = `!(${stringOr('s', 'name')} in ${allowed})`;
    const guard = hasChain('variables.podSpec', 'securityContext.sysctls');
    return {
      target: 'pod',
      validations: [
        {
          expression: `!(${guard} && ${list}.exists(s, ${bad}))`,
          messageExpression: message(this.id, `'pod must not set sysctl "' + ${list}.filter(s, ${bad}).map(s, ${stringOr('s', 'name')})[0] + '"'`),
        },
      ],
    };
  },
};
