// pss-host-path-volumes: no volume is a hostPath volume.
import { message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const BAD = 'has(v.hostPath)';

export const pssHostPathVolumes: CheckCompiler = {
  id: 'pss-host-path-volumes',
  versions: ['v1.0'],
  compile() {
    return {
      target: 'pod',
      validations: [
        {
          expression: `!variables.volumes.exists(v, ${BAD})`,
          messageExpression: message(this.id, `'volume "' + variables.volumes.filter(v, ${BAD})[0].name + '" must not use a hostPath volume'`),
        },
      ],
    };
  },
};
