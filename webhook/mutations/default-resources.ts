// default-resources (off by default) — fills each container's and init container's
// `resources.requests` and `resources.limits`, key by key, from `mutationDefaults.resources`.
//
// Never for ephemeral containers (they may not set resources). Per key, it leaves alone:
// a request the container sets, or one for a resource the container limits (the API server
// defaults that request to the limit; a smaller default would lower the pod's QoS class);
// a limit the container sets, or one below the container's own request for that resource
// (the API server rejects limit < request). Skips pods with pod-level `spec.resources`
// (container values must then fit inside them).
import { isRecord } from '../../policies/helpers.js';
import { parseQuantity } from '../../core/quantity.js';
import { isSet } from './patch.js';
import type { Mutation } from './types.js';

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export const defaultResources: Mutation = {
  id: 'default-resources',
  defaultOn: false,
  apply(ctx) {
    const defaults = ctx.defaults.resources;
    if (!defaults || isSet(ctx.subject.spec.resources)) return false;
    let changed = false;
    for (const target of ctx.targets) {
      if (target.ref.list === 'ephemeralContainers') continue;
      const resources = record(target.ref.container.resources);
      const requests = record(resources.requests);
      const limits = record(resources.limits);
      for (const [name, quantity] of defaults.requests) {
        if (isSet(limits[name])) continue;
        if (ctx.patch.fill([...target.segments, 'resources', 'requests', name], quantity)) changed = true;
      }
      for (const [name, quantity] of defaults.limits) {
        const request = requests[name];
        if (isSet(request)) {
          const asked = parseQuantity(request);
          if (asked === undefined || asked > parseQuantity(quantity)!) continue;
        }
        if (ctx.patch.fill([...target.segments, 'resources', 'limits', name], quantity)) changed = true;
      }
    }
    return changed;
  },
};
