// `mutationDefaults:` in the config: the values mutations fill in that a cluster must choose.
//
//   mutationDefaults:
//     resources:                  # used by default-resources
//       requests: {cpu: 100m, memory: 128Mi}
//       limits: {memory: 512Mi}
import { parseSection, type BulwarkConfig } from '../../config/load.js';
import { missingResourceDefaults } from '../../config/schema.js';
import { ConfigError } from '../../core/errors.js';

export interface ResourceDefaults {
  /** [resource name, quantity] pairs, in config order. */
  requests: [string, string][];
  limits: [string, string][];
}

export interface MutationDefaults {
  resources?: ResourceDefaults;
}

/**
 * Validates and compiles `mutationDefaults` with the one schema (config/schema.ts). `enabled` is
 * the active mutation list: turning default-resources on without `mutationDefaults.resources` is
 * an error. Throws one ConfigError naming every problem by its key path.
 */
export function parseMutationDefaults(raw: BulwarkConfig['mutationDefaults'], enabled: readonly string[]): MutationDefaults {
  const parsed = parseSection('mutationDefaults', raw);
  const missing = missingResourceDefaults(enabled, parsed.resources);
  if (missing) throw new ConfigError(`mutationDefaults.resources: ${missing}`);
  return parsed.resources ? { resources: parsed.resources } : {};
}
