// pss-allow-privilege-escalation (v1.25): every container of a non-windows pod sets allowPrivilegeEscalation=false.
import { anyContainer, containerBad, fieldIs, firstContainer, message, WINDOWS_POD } from '../cel.js';
import type { CheckCompiler } from '../types.js';

export const pssAllowPrivilegeEscalation: CheckCompiler = {
  id: 'pss-allow-privilege-escalation',
  versions: ['v1.25'],
  compile(ctx) {
    const bad = containerBad(ctx, `!${fieldIs('c', 'securityContext.allowPrivilegeEscalation', 'false')}`);
    return {
      target: 'pod',
      validations: [
        {
          expression: `${WINDOWS_POD} || !${anyContainer(bad)}`,
          messageExpression: message(this.id, `${firstContainer(bad)} + ' must set securityContext.allowPrivilegeEscalation=false'`),
        },
      ],
    };
  },
};
