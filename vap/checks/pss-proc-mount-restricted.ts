// pss-proc-mount-restricted: procMount is unset or Default, also in user-namespace pods.
import type { CheckCompiler } from '../types.js';
import { procMountValidation } from './pss-proc-mount.js';

export const pssProcMountRestricted: CheckCompiler = {
  id: 'pss-proc-mount-restricted',
  versions: ['v1.35'],
  compile(ctx) {
    return { target: 'pod', validations: [procMountValidation(this.id, ctx, '')] };
  },
};
