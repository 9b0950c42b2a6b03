// read-only-root-filesystem (off by default) — sets `securityContext.readOnlyRootFilesystem:
// true` on every container that leaves it unset. Containers that write outside their volumes
// (to /tmp, caches, pid files) fail: give them an emptyDir, or set the field to false.
// Skips Windows pods (the field is forbidden there).
import type { Mutation } from './types.js';

export const readOnlyRootFilesystem: Mutation = {
  id: 'read-only-root-filesystem',
  defaultOn: false,
  apply(ctx) {
    if (ctx.windows) return false;
    let changed = false;
    for (const target of ctx.targets) {
      if (ctx.patch.fill([...target.segments, 'securityContext', 'readOnlyRootFilesystem'], true)) changed = true;
    }
    return changed;
  },
};
