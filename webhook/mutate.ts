// /mutate: hardening defaults as minimal RFC 6902 patches. (Being built: see issue 4.)
import type { CompiledConfig } from '../policies/config.js';
import type { AdmissionRequest, JsonPatchOperation } from './admission.js';

export interface MutationResult {
  /** Minimal `add` operations; empty when nothing needs filling in. */
  patch: JsonPatchOperation[];
  /** IDs of the mutations that changed something. */
  applied: string[];
}

/** Computes the patch for one admission request (pure; no I/O). */
export function computeMutation(request: AdmissionRequest, compiled: CompiledConfig): MutationResult {
  void request;
  void compiled;
  return { patch: [], applied: [] };
}
