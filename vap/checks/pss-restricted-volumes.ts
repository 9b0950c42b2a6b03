// pss-restricted-volumes: every volume uses an allowed source (configMap, csi, downwardAPI, emptyDir,
// ephemeral, image, persistentVolumeClaim, projected, secret); a volume with no source passes.
import { listLit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';
import { RESTRICTED_SOURCES } from '../../policies/pss/restricted-volumes.js';

const ALLOWED = listLit(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret']);
const RESTRICTED = RESTRICTED_SOURCES;
const BAD = `(v.exists(k, k != 'name' && !(k in ${ALLOWED})) && !v.exists(k, k in ${ALLOWED}))`;

export const pssRestrictedVolumes: CheckCompiler = {
  id: 'pss-restricted-volumes',
  versions: ['v1.0'],
  compile() {
    let source = `v.filter(k, k != 'name' && !(k in ${ALLOWED}))[0]`;
    for (let i = RESTRICTED.length - 1; i >= 0; i--) source = `(has(v.${RESTRICTED[i]}) ? '${RESTRICTED[i]}' : ${source})`;
    return {
      target: 'pod',
      validations: [
        {
          expression: `!variables.volumes.exists(v, ${BAD})`,
          messageExpression: message(
            this.id,
            `variables.volumes.filter(v, ${BAD}).map(v, 'volume "' + v.name + '" uses restricted volume type "' + ${source} + '"')[0]`,
          ),
        },
      ],
    };
  },
};
