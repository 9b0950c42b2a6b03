// /mutate: hardening defaults as minimal RFC 6902 patches.
//
// Which requests are patched (the API server's rules decide what is allowed to change):
// - Pod: CREATE only. A pod spec is immutable, so a patch on UPDATE would make the API server
//   reject the user's harmless change (a `kubectl label`).
// - Job: CREATE only, for the same reason (`spec.template` of a Job is immutable).
// - Deployment, ReplicaSet, StatefulSet, DaemonSet, ReplicationController, CronJob,
//   PodTemplate: CREATE and UPDATE of the main resource (a status or scale write is not).
// - The ephemeralcontainers subresource (a Pod from 1.22, `kind: EphemeralContainers` before):
//   only the ephemeral containers being added (names absent from oldObject), only
//   container-level fields, and no annotation (the API server keeps nothing but the ephemeral
//   containers from such a write).
// - Never: exempt namespaces, users and groups; objects being deleted (an update then is a
//   finalizer removal); mirror pods (the kubelet's reflection of a static pod: patching it
//   would describe settings the running pod does not have).
// Containers whose image is exempt are left alone, and so are the pod-level fields of a pod
// that has one (they would change how that container runs).
//
// The patched object's own metadata gets `bulwark.io/mutated: <sorted IDs>`, merged with IDs
// already listed. A second review of the patched object yields no patch, so the webhook is
// safe under `reinvocationPolicy: IfNeeded`. Dry-run requests get the same patch.
import type { BulwarkConfig } from '../config/load.js';
import { DEFAULT_MUTATIONS } from '../config/schema.js';
import { isImageExempt, type CompiledConfig } from '../policies/config.js';
import { visitContainers } from '../policies/helpers.js';
import { POD_BEARING_KINDS, toSubject } from '../policies/subject.js';
import { isRecord } from '../core/record.js';
import type { K8sObject, PodSubject } from '../policies/types.js';
import type { AdmissionRequest, JsonPatchOperation } from './admission.js';
import { requestExemption } from './exemptions.js';
import { compileMutations, type CompiledMutations } from './mutations/index.js';
import { PatchBuilder, dig, isSet, ownMember, type Segments } from './mutations/patch.js';
import type { ContainerTarget, MutationContext } from './mutations/types.js';

export { compileMutations, MUTATIONS, type CompiledMutations } from './mutations/index.js';

export interface MutationResult {
  /** Minimal `add` operations; empty when nothing needs filling in. */
  patch: JsonPatchOperation[];
  /** IDs of the mutations that changed something. */
  applied: string[];
}

/** Lists, on the patched object's own metadata, the mutations Bulwark applied to it. */
export const MUTATED_ANNOTATION = 'bulwark.io/mutated';

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** Kinds whose pod template is immutable once created. */
const CREATE_ONLY_KINDS = new Set(['Pod', 'Job']);
const POD_KINDS = new Set(POD_BEARING_KINDS);

const compiledMutations = new WeakMap<CompiledConfig, CompiledMutations>();

/** The compiled mutations of a config, compiled once (throws a ConfigError on a bad `mutationDefaults`). */
export function mutationsOf(compiled: CompiledConfig): CompiledMutations {
  let out = compiledMutations.get(compiled);
  if (!out) {
    // The webhook is handed the whole validated file; a bare PolicyConfig gets the default mutations.
    const config = compiled.config as Partial<Pick<BulwarkConfig, 'mutations' | 'mutationDefaults'>>;
    out = compileMutations({ mutations: config.mutations ?? DEFAULT_MUTATIONS, mutationDefaults: config.mutationDefaults ?? {} });
    compiledMutations.set(compiled, out);
  }
  return out;
}

function nothing(): MutationResult {
  return { patch: [], applied: [] };
}

type Scope = 'pod' | 'new-ephemeral-containers';

/** What this request may change, or undefined when it must not be patched at all. */
function scopeOf(request: AdmissionRequest, kind: string): Scope | undefined {
  const subResource = request.subResource ?? '';
  if (kind === 'EphemeralContainers' || (kind === 'Pod' && subResource === 'ephemeralcontainers')) {
    return request.operation === 'UPDATE' ? 'new-ephemeral-containers' : undefined;
  }
  if (subResource !== '' || !POD_KINDS.has(kind)) return undefined;
  if (request.operation === 'CREATE') return 'pod';
  if (request.operation === 'UPDATE' && !CREATE_ONLY_KINDS.has(kind)) return 'pod';
  return undefined;
}

/** Names of the ephemeral containers the old object already had. */
function existingEphemeralNames(oldObject: unknown, specSegments: Segments): Set<string> {
  const names = new Set<string>();
  const list = dig(oldObject, [...specSegments, 'ephemeralContainers']);
  if (Array.isArray(list)) {
    for (const c of list) if (isRecord(c) && typeof c.name === 'string') names.add(c.name);
  }
  return names;
}

/** IDs listed in an existing annotation value, merged with `applied`, sorted, comma-separated. */
export function mergeMutatedIds(existing: unknown, applied: readonly string[]): string {
  const ids = new Set(applied);
  if (typeof existing === 'string') {
    for (const id of existing.split(',')) if (id.trim()) ids.add(id.trim());
  }
  return [...ids].sort().join(',');
}

/** Computes the patch for one admission request (pure; no I/O). */
export function computeMutation(request: AdmissionRequest, compiled: CompiledConfig): MutationResult {
  const { mutations, defaults } = mutationsOf(compiled);
  const object = request.object;
  if (mutations.length === 0 || !isRecord(object)) return nothing();
  const kind = typeof object.kind === 'string' && object.kind ? object.kind : (request.kind?.kind ?? '');
  const scope = scopeOf(request, kind);
  if (!scope) return nothing();

  const metadata = ownMember(object, 'metadata');
  if (isSet(metadata) && !isRecord(metadata)) return nothing();
  const meta = isRecord(metadata) ? metadata : {};
  const annotations = ownMember(meta, 'annotations');
  if (isSet(annotations) && !isRecord(annotations)) return nothing();
  if (isSet(meta.deletionTimestamp)) return nothing();
  if (kind === 'Pod' && isRecord(annotations) && isSet(ownMember(annotations, MIRROR_POD_ANNOTATION))) return nothing();

  if (requestExemption(request, compiled)) return nothing();

  const subject = toSubject({ ...object, kind } as K8sObject) as PodSubject;
  const specSegments: Segments = subject.specPath ? subject.specPath.split('.') : [];
  // No pod spec, no containers: nothing to harden (and no spec to create).
  if (!isRecord(dig(object, specSegments))) return nothing();

  const oldNames = scope === 'new-ephemeral-containers' ? existingEphemeralNames(request.oldObject, specSegments) : undefined;
  if (oldNames && !isRecord(request.oldObject)) return nothing();
  const targets: ContainerTarget[] = [];
  let exemptImage = false;
  visitContainers(subject, (ref) => {
    if (isImageExempt(compiled, ref.image)) {
      exemptImage = true;
      return;
    }
    if (oldNames) {
      const name = ref.container.name;
      if (ref.list !== 'ephemeralContainers' || typeof name !== 'string' || oldNames.has(name)) return;
    }
    targets.push({ ref, segments: [...specSegments, ref.list, ref.index] });
  });

  const os = subject.spec.os;
  const patch = new PatchBuilder(object);
  const ctx: MutationContext = {
    subject,
    specSegments,
    targets,
    podLevel: scope === 'pod' && !exemptImage,
    windows: isRecord(os) && os.name === 'windows',
    patch,
    defaults,
  };
  const applied: string[] = [];
  for (const mutation of mutations) if (mutation.apply(ctx)) applied.push(mutation.id);
  if (applied.length === 0) return nothing();
  applied.sort();

  if (scope === 'pod') {
    const existing = isRecord(annotations) ? ownMember(annotations, MUTATED_ANNOTATION) : undefined;
    patch.put(['metadata', 'annotations', MUTATED_ANNOTATION], mergeMutatedIds(existing, applied));
  }
  return { patch: patch.operations(), applied };
}
