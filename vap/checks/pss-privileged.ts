// pss-privileged: no container sets securityContext.privileged=true.
import { anyContainer, cSc, containerBad, firstContainer, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

export const pssPrivileged: CheckCompiler = {
  id: 'pss-privileged',
  versions: ['v1.0'],
  compile(ctx) {
    const bad = containerBad(
      ctx,
      cSc('privileged', (v) => `${v} == true`),
    );
    return {
      target: 'pod',
      validations: [
        {
          expression: `!${anyContainer(bad)}`,
          messageExpression: message(this.id, `${firstContainer(bad)} + ' must not set securityContext.privileged=true'`),
        },
      ],
    };
  },
};
