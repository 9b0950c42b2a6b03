// pss-capabilities-baseline: capabilities.add holds only the runtime's default set.
import { BASELINE_ALLOWED_CAPABILITIES } from '../../policies/pss/capabilities-baseline.js';
import { anyContainer, containerBad, firstContainer, listLit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const ALLOWED = listLit([...BASELINE_ALLOWED_CAPABILITIES]);
const ADD = 'has(c.securityContext) && has(c.securityContext.capabilities) && has(c.securityContext.capabilities.add)';

export const pssCapabilitiesBaseline: CheckCompiler = {
  id: 'pss-capabilities-baseline',
  versions: ['v1.0'],
  compile(ctx) {
    const bad = containerBad(ctx, `${ADD} && c.securityContext.capabilities.add.exists(x, !(x in ${ALLOWED}))`);
    return {
      target: 'pod',
      validations: [
        {
          expression: `!${anyContainer(bad)}`,
          messageExpression: message(
            this.id,
            firstContainer(
              bad,
              `' must not include ' + c.securityContext.capabilities.add.filter(x, !(x in ${ALLOWED})).map(x, '"' + x + '"').join(', ') + ' in securityContext.capabilities.add'`,
            ),
          ),
        },
      ],
    };
  },
};
