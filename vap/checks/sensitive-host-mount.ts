// sensitive-host-mount: no hostPath volume whose path, normalised (`//`, `.`, a trailing `/`), is a
// sensitive path (lists.sensitiveHostPaths, normalised when compiled), lies under one or is an ancestor
// of one. A path with a `..` component counts as sensitive: the API server rejects such a hostPath
// (validatePathNoBacksteps) before validating admission runs, so only a malformed object could hold one.
import { normaliseHostPath } from '../../policies/helpers.js';
import { listLit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const PATH = `(has(v.hostPath) && has(v.hostPath.path) && v.hostPath.path != '')`;
/** The path as the kernel resolves it, without symlinks; a path with `..` becomes `/` (the API server rejects those). */
const NORMAL = `(v.hostPath.path.split('/').exists(p, p == '..') ? '/' : '/' + v.hostPath.path.split('/').filter(p, p != '' && p != '.').join('/'))`;
const within = (a: string, b: string): string => `(${a} == ${b} || ${b} == '/' || ${a}.startsWith(${b} + '/'))`;

export const sensitiveHostMount: CheckCompiler = {
  id: 'sensitive-host-mount',
  compile(ctx) {
    const sensitive = listLit([...new Set(ctx.lists.sensitiveHostPaths.map(normaliseHostPath))]);
    const bad = `${sensitive}.exists(s, ${within('h.normal', 's')} || ${within('s', 'h.normal')})`;
    return {
      target: 'pod',
      variables: [
        {
          name: 'hostPaths',
          expression: `variables.volumes.filter(v, ${PATH}).map(v, {'name': has(v.name) ? v.name : '', 'path': v.hostPath.path, 'normal': ${NORMAL}})`,
        },
      ],
      validations: [
        {
          expression: `!variables.hostPaths.exists(h, ${bad})`,
          messageExpression: message(
            this.id,
            `variables.hostPaths.filter(h, ${bad}).map(h, 'volume "' + h.name + '" mounts host path "' + h.path + '"' + (h.normal != h.path ? ' (resolves to ' + h.normal + ')' : '') + ', a sensitive path, or under or above one (' + ${sensitive}.filter(s, ${within('h.normal', 's')} || ${within('s', 'h.normal')}).join(', ') + ')')[0]`,
          ),
        },
      ],
      differences: ['the message names the sensitive paths matched but not the relation nor the containers that mount the volume'],
    };
  },
};
