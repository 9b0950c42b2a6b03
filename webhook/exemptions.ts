// The one exemption rule of both admission routes (/validate and /mutate): a request whose
// namespace, user or group is exempt in config is neither checked nor patched.
import { exemptionReason, type CompiledConfig } from '../policies/config.js';
import type { AdmissionRequest } from './admission.js';
import { namespaceOf, userOf } from './review.js';

/** Why the request is exempt (`namespace "x" is exempt`, …), or undefined. Image exemptions act per container, later. */
export function requestExemption(request: AdmissionRequest, compiled: CompiledConfig): string | undefined {
  return exemptionReason(compiled, namespaceOf(request), userOf(request));
}
