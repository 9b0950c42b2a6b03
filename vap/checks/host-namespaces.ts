// host-namespaces: hostNetwork, hostPID and hostIPC are not true.
import { DESCRIBE_OBJECT, firstOf, lit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const FIELDS = [
  { field: 'hostNetwork', why: "the pod would share the node's network namespace" },
  { field: 'hostPID', why: 'the pod would see and signal every process on the node' },
  { field: 'hostIPC', why: "the pod would share the node's IPC namespace and shared memory" },
];
const set = (f: string): string => `(has(variables.podSpec.${f}) && variables.podSpec.${f} == true)`;

export const hostNamespaces: CheckCompiler = {
  id: 'host-namespaces',
  compile() {
    return {
      target: 'pod',
      validations: [
        {
          expression: `!(${FIELDS.map((f) => set(f.field)).join(' || ')})`,
          messageExpression: message(
            this.id,
            `${DESCRIBE_OBJECT} + ${firstOf(
              FIELDS.map((f) => ({ when: set(f.field), text: lit(` must not set ${f.field}=true: ${f.why}`) })),
              "''",
            )}`,
          ),
        },
      ],
    };
  },
};
