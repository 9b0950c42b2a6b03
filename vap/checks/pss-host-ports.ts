// pss-host-ports: no container port sets a hostPort other than 0.
import { anyContainer, containerBad, firstContainer, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const PORT = '(has(p.hostPort) && p.hostPort != 0)';

export const pssHostPorts: CheckCompiler = {
  id: 'pss-host-ports',
  versions: ['v1.0'],
  compile(ctx) {
    const bad = containerBad(ctx, `has(c.ports) && c.ports.exists(p, ${PORT})`);
    return {
      target: 'pod',
      validations: [
        {
          expression: `!${anyContainer(bad)}`,
          messageExpression: message(
            this.id,
            firstContainer(bad, `' must not use hostPort ' + c.ports.filter(p, ${PORT}).map(p, string(p.hostPort)).join(', ')`),
          ),
        },
      ],
    };
  },
};
