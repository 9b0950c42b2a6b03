// The mutation registry: one file per mutation, listed here in a stable order.
import { type BulwarkConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';
import { parseMutationDefaults, type MutationDefaults } from './defaults.js';
import { defaultResources } from './default-resources.js';
import { dropAllCapabilities } from './drop-all-capabilities.js';
import { noPrivilegeEscalation } from './no-privilege-escalation.js';
import { readOnlyRootFilesystem } from './read-only-root-filesystem.js';
import { runAsNonRoot } from './run-as-non-root.js';
import { seccompRuntimeDefault } from './seccomp-runtime-default.js';
import type { Mutation } from './types.js';

export type { Mutation, MutationContext, ContainerTarget } from './types.js';

export const MUTATIONS: readonly Mutation[] = [
  seccompRuntimeDefault,
  noPrivilegeEscalation,
  dropAllCapabilities,
  runAsNonRoot,
  readOnlyRootFilesystem,
  defaultResources,
];

/** The config's mutations, ready for the request path. */
export interface CompiledMutations {
  /** Active mutations, in registry order. */
  mutations: Mutation[];
  defaults: MutationDefaults;
}

/**
 * Validates `mutations` and `mutationDefaults` and compiles them. Throws a ConfigError that
 * names each bad key; call it at start-up so that a bad config fails there, not per request.
 */
export function compileMutations(config: Pick<BulwarkConfig, 'mutations' | 'mutationDefaults'>): CompiledMutations {
  const unknown = config.mutations.filter((id) => !MUTATIONS.some((m) => m.id === id));
  const errors = unknown.map((id) => `mutations: unknown mutation ${JSON.stringify(id)} (known: ${MUTATIONS.map((m) => m.id).join(', ')})`);
  let defaults: MutationDefaults = {};
  try {
    defaults = parseMutationDefaults(config.mutationDefaults ?? {}, config.mutations);
  } catch (err) {
    errors.push((err as Error).message);
  }
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return { mutations: MUTATIONS.filter((m) => config.mutations.includes(m.id)), defaults };
}
