// no-privilege-escalation — sets `securityContext.allowPrivilegeEscalation: false` on every
// container that leaves it unset (no setuid binaries or file capabilities gaining privileges:
// the process runs with no_new_privs).
//
// Leaves a container alone when it is privileged or adds CAP_SYS_ADMIN: the API server rejects
// allowPrivilegeEscalation=false together with `privileged: true` or `capabilities.add:
// [CAP_SYS_ADMIN]`. Bulwark also counts the runtime-equivalent spellings `SYS_ADMIN` (any
// case) and `ALL` (which grants SYS_ADMIN), which the API server lets through. Skips Windows
// pods (the field is forbidden there).
import { securityContextOf } from '../../policies/helpers.js';
import { addedCapabilities } from './common.js';
import type { Mutation } from './types.js';

/** Capabilities that cannot be combined with allowPrivilegeEscalation=false. */
const ESCALATING_CAPABILITIES = new Set(['SYS_ADMIN', 'ALL']);

export const noPrivilegeEscalation: Mutation = {
  id: 'no-privilege-escalation',
  defaultOn: true,
  apply(ctx) {
    if (ctx.windows) return false;
    let changed = false;
    for (const target of ctx.targets) {
      const container = target.ref.container;
      if (securityContextOf(container).privileged === true) continue;
      if (addedCapabilities(container).some((c) => ESCALATING_CAPABILITIES.has(c))) continue;
      if (ctx.patch.fill([...target.segments, 'securityContext', 'allowPrivilegeEscalation'], false)) changed = true;
    }
    return changed;
  },
};
