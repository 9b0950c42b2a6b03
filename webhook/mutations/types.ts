// What a mutation sees and what it must do: fill in unset fields through the patch builder.
import type { ContainerRef } from '../../policies/helpers.js';
import type { PodSubject } from '../../policies/types.js';
import type { MutationDefaults } from './defaults.js';
import type { PatchBuilder, Segments } from './patch.js';

/** A container this request may change, and where it sits in the submitted object. */
export interface ContainerTarget {
  ref: ContainerRef;
  /** Pointer segments of the container: `['spec', 'template', 'spec', 'containers', 0]`. */
  segments: Segments;
}

export interface MutationContext {
  subject: PodSubject;
  /** Pointer segments of the pod spec (`[]` for the pre-1.22 EphemeralContainers object). */
  specSegments: Segments;
  /**
   * The containers this request may change: every container, init container and ephemeral
   * container except those whose image is exempt; on the ephemeralcontainers subresource,
   * only the ephemeral containers being added.
   */
  targets: readonly ContainerTarget[];
  /**
   * Whether pod-level fields may change: false on the ephemeralcontainers subresource (the
   * rest of the pod is immutable) and when any container's image is exempt (a pod-level
   * field would change how that container runs).
   */
  podLevel: boolean;
  /** `spec.os.name: windows`: Linux-only security fields are forbidden there. */
  windows: boolean;
  patch: PatchBuilder;
  defaults: MutationDefaults;
}

export interface Mutation {
  /** Stable kebab-case ID, as written under `mutations:` and in the `bulwark.io/mutated` annotation. */
  id: string;
  /** Part of the default `mutations:` list. */
  defaultOn: boolean;
  /** Fills in what is unset and allowed; true when the patch changes something. */
  apply(ctx: MutationContext): boolean;
}
