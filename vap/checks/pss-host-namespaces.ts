// pss-host-namespaces: hostNetwork, hostPID and hostIPC are false or unset.
import { firstOf, lit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const FIELDS = ['hostNetwork', 'hostPID', 'hostIPC'];
const set = (f: string): string => `(has(variables.podSpec.${f}) && variables.podSpec.${f} == true)`;

export const pssHostNamespaces: CheckCompiler = {
  id: 'pss-host-namespaces',
  versions: ['v1.0'],
  compile() {
    return {
      target: 'pod',
      validations: [
        {
          expression: `!(${FIELDS.map(set).join(' || ')})`,
          messageExpression: message(
            this.id,
            firstOf(
              FIELDS.map((f) => ({ when: set(f), text: lit(`pod must not set ${f}=true`) })),
              "''",
            ),
          ),
        },
      ],
    };
  },
};
