// pss-capabilities-restricted (v1.25): every container of a non-windows pod drops ALL and adds at
// most NET_BIND_SERVICE.
import { anyContainer, containerBad, firstContainer, hasChain, message, WINDOWS_POD } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const NO_DROP_ALL = `!(${hasChain('c', 'securityContext.capabilities.drop')} && 'ALL' in c.securityContext.capabilities.drop)`;
const BAD_ADD = `(${hasChain('c', 'securityContext.capabilities.add')} && c.securityContext.capabilities.add.exists(x, x != 'NET_BIND_SERVICE'))`;

export const pssCapabilitiesRestricted: CheckCompiler = {
  id: 'pss-capabilities-restricted',
  versions: ['v1.25'],
  compile(ctx) {
    const bad = containerBad(ctx, `${NO_DROP_ALL} || ${BAD_ADD}`);
    return {
      target: 'pod',
      validations: [
        {
          expression: `${WINDOWS_POD} || !${anyContainer(bad)}`,
          messageExpression: message(
            this.id,
            firstContainer(
              bad,
              `${NO_DROP_ALL} ? ' must set securityContext.capabilities.drop=["ALL"]' : ' must not include ' + c.securityContext.capabilities.add.filter(x, x != 'NET_BIND_SERVICE').map(x, '"' + x + '"').join(', ') + ' in securityContext.capabilities.add (only NET_BIND_SERVICE may be added)'`,
            ),
          ),
        },
      ],
    };
  },
};
