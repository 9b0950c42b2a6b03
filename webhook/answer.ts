// What an admission review is answered, computed the same way on the server's thread and on the
// review worker's (webhook/offload.ts): the body decoded into an AdmissionRequest, a /mutate answer,
// and the summary of a /validate decision that the server answers, counts, logs and alerts on.
import type { Action, CompiledConfig } from '../policies/config.js';
import type { AdmissionRequest, AdmissionResponse } from './admission.js';
import { decodeJsonBody, HttpError } from './body.js';
import { MODE_LABEL, type Outcome } from './decide.js';
import { requestExemption } from './exemptions.js';
import { computeMutation } from './mutate.js';
import { encodeAdmissionResponse, encodeAllowed, kindOf, namespaceOf, parseAdmissionReview } from './review.js';

/** The request of an AdmissionReview value, or the 400 to answer. */
export function reviewRequest(body: unknown): AdmissionRequest | HttpError {
  const parsed = parseAdmissionReview(body);
  return parsed.ok ? parsed.request : new HttpError(400, `not an admission.k8s.io/v1 AdmissionReview: ${parsed.error}`, 'not-admission-review');
}

/** The request of a whole body (bytes), or the HttpError (400) to answer. */
export function decodeReview(body: Buffer): AdmissionRequest | HttpError {
  const decoded = decodeJsonBody(body);
  return decoded instanceof HttpError ? decoded : reviewRequest(decoded.value);
}

/** What a /validate decision comes to, as the server uses it after answering. */
export interface DecisionSummary {
  outcome: Outcome;
  /** Undefined: the plain `allowed: true`. */
  response: AdmissionResponse | undefined;
  namespace: string;
  kind: string;
  /** Checks that threw. */
  errors: readonly { policy: string; error: unknown }[];
  /** The findings' policies and actions (the review worker sends each pair once). */
  findings: readonly { policy: string; action: Action }[];
}

export interface MutationAnswer {
  kind: string;
  /** The request's namespace (result `patched`, for the log line). */
  namespace?: string;
  result: 'unchanged' | 'exempt' | 'patched' | 'error';
  /** The response review, encoded. */
  body: string;
  /** The mutations that changed something (result `patched`). */
  applied?: string[];
  /** Why no default could be computed (result `error`): the request is allowed unchanged. */
  error?: unknown;
}

/** The /mutate answer: exempt, unchanged, or the patch of the mutation defaults. A default that cannot be computed never blocks the request. */
export function mutationAnswer(request: AdmissionRequest, compiled: CompiledConfig): MutationAnswer {
  const kind = kindOf(request);
  try {
    if (requestExemption(request, compiled)) return { kind, result: 'exempt', body: encodeAllowed(request.uid) };
    const mutation = computeMutation(request, compiled);
    if (mutation.patch.length === 0) return { kind, result: 'unchanged', body: encodeAllowed(request.uid) };
    const body = encodeAdmissionResponse({
      uid: request.uid,
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(mutation.patch)).toString('base64'),
    });
    return { kind, namespace: namespaceOf(request), result: 'patched', body, applied: mutation.applied };
  } catch (error) {
    return { kind, result: 'error', body: encodeAllowed(request.uid), error };
  }
}

/** The Namespace a Namespace UPDATE relabels to `bulwark.io/mode: enforce` (from another mode or none); undefined for any other request. */
export function enforceRelabelOf(request: AdmissionRequest): string | undefined {
  if (request.operation !== 'UPDATE' || kindOf(request) !== 'Namespace') return undefined;
  const label = (o: unknown): unknown => (o as { metadata?: { labels?: Record<string, unknown> } } | null | undefined)?.metadata?.labels?.[MODE_LABEL];
  if (label(request.object) !== 'enforce' || label(request.oldObject) === 'enforce') return undefined;
  const name = (request.object as { metadata?: { name?: unknown } }).metadata?.name;
  return typeof name === 'string' ? name : undefined;
}
