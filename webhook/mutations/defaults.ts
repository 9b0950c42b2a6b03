// `mutationDefaults:` in the config: the values mutations fill in that a cluster must choose.
//
//   mutationDefaults:
//     resources:                  # used by default-resources
//       requests: {cpu: 100m, memory: 128Mi}
//       limits: {memory: 512Mi}
import { type BulwarkConfig } from '../../policies/config.js';
import { ConfigError } from '../../core/errors.js';
import { parseQuantity } from '../../core/quantity.js';
import { isRecord } from '../../core/record.js';

/** Resource names default-resources may fill (extended resources and hugepages need requests = limits: not defaults material). */
export const DEFAULTABLE_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'] as const;

export interface ResourceDefaults {
  /** [resource name, quantity] pairs, in config order. */
  requests: [string, string][];
  limits: [string, string][];
}

export interface MutationDefaults {
  resources?: ResourceDefaults;
}

/**
 * Validates and compiles `mutationDefaults`. `enabled` is the active mutation list: turning
 * default-resources on without `mutationDefaults.resources` is an error. Throws one
 * ConfigError naming every problem by its key path.
 */
export function parseMutationDefaults(raw: BulwarkConfig['mutationDefaults'], enabled: readonly string[]): MutationDefaults {
  const errors: string[] = [];
  const out: MutationDefaults = {};
  const example = 'e.g. {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 512Mi}}';
  for (const key of Object.keys(raw)) {
    if (key !== 'resources') errors.push(`mutationDefaults.${key}: unknown key (known keys: resources)`);
  }
  const resources = raw.resources;
  if (resources !== undefined && resources !== null) {
    if (!isRecord(resources)) {
      errors.push(`mutationDefaults.resources: must be a mapping with requests and/or limits (${example})`);
    } else {
      const parsed: ResourceDefaults = { requests: [], limits: [] };
      for (const key of Object.keys(resources)) {
        if (key !== 'requests' && key !== 'limits') {
          errors.push(`mutationDefaults.resources.${key}: unknown key (known keys: requests, limits)`);
        }
      }
      for (const part of ['requests', 'limits'] as const) {
        const section = resources[part];
        if (section === undefined || section === null) continue;
        if (!isRecord(section)) {
          errors.push(`mutationDefaults.resources.${part}: must be a mapping of resource name to quantity (${example})`);
          continue;
        }
        for (const [name, quantity] of Object.entries(section)) {
          const where = `mutationDefaults.resources.${part}.${name}`;
          if (!(DEFAULTABLE_RESOURCES as readonly string[]).includes(name)) {
            errors.push(`${where}: unknown resource (known: ${DEFAULTABLE_RESOURCES.join(', ')})`);
          } else if (parseQuantity(quantity) === undefined) {
            errors.push(`${where}: must be a non-negative Kubernetes quantity such as 100m, 0.5 or 128Mi, got ${JSON.stringify(quantity)}`);
          } else {
            parsed[part].push([name, String(quantity)]);
          }
        }
      }
      for (const [name, request] of parsed.requests) {
        const limit = parsed.limits.find(([n]) => n === name)?.[1];
        if (limit !== undefined && parseQuantity(request)! > parseQuantity(limit)!) {
          errors.push(`mutationDefaults.resources.requests.${name}: ${request} is more than the default limit ${limit}`);
        }
      }
      if (parsed.requests.length === 0 && parsed.limits.length === 0 && errors.length === 0) {
        errors.push(`mutationDefaults.resources: sets no requests and no limits (${example})`);
      }
      out.resources = parsed;
    }
  }
  if (enabled.includes('default-resources') && !isRecord(resources)) {
    errors.push(`mutationDefaults.resources: required when the default-resources mutation is on (${example})`);
  }
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return out;
}
