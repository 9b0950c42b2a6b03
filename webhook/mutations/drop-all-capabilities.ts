// drop-all-capabilities — sets `securityContext.capabilities.drop: [ALL]` on every container
// without a drop list. An `add` list is kept: the runtime drops everything, then adds those
// back, which is how a container asks for exactly the capabilities it needs.
//
// Leaves a container alone when it has any drop list (even one without ALL: a choice the user
// made). Skips Windows pods (capabilities are forbidden there). A privileged container is
// patched too: harmless, since privileged containers get every capability regardless.
import type { Mutation } from './types.js';

export const dropAllCapabilities: Mutation = {
  id: 'drop-all-capabilities',
  defaultOn: true,
  apply(ctx) {
    if (ctx.windows) return false;
    let changed = false;
    for (const target of ctx.targets) {
      if (ctx.patch.fill([...target.segments, 'securityContext', 'capabilities', 'drop'], ['ALL'])) changed = true;
    }
    return changed;
  },
};
