// The AdmissionReview codec: what a well-formed admission.k8s.io/v1 review must hold, and the
// response document, written once per request (the hot path never stringifies twice).
import { isRecord } from '../core/record.js';
import type { AdmissionRequest, AdmissionResponse, Operation } from './admission.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; error: string };

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? value.slice(0, 64) + '…' : value);
  return typeof value === 'object' ? 'an object' : String(value);
}

/**
 * Checks that a parsed body is an `admission.k8s.io/v1` AdmissionReview with a request that can
 * be answered (a `uid` to echo, a known operation). The error says what is wrong, for a 400.
 * Fields the decision reads later (kind, userInfo, objects) are checked where they are read.
 */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (!isRecord(body)) return { ok: false, error: `expected an AdmissionReview object, got ${describe(body)}` };
  if (body.kind !== 'AdmissionReview') {
    return { ok: false, error: `expected kind AdmissionReview, got ${describe(body.kind)}` };
  }
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    return {
      ok: false,
      error: `expected apiVersion ${ADMISSION_API_VERSION}, got ${describe(body.apiVersion)} (register the webhook with admissionReviewVersions: [v1])`,
    };
  }
  const request = body.request;
  if (!isRecord(request)) return { ok: false, error: `request must be an object, got ${describe(request)}` };
  if (typeof request.uid !== 'string' || request.uid === '') {
    return { ok: false, error: `request.uid must be a non-empty string, got ${describe(request.uid)}` };
  }
  if (!(OPERATIONS as readonly unknown[]).includes(request.operation)) {
    return { ok: false, error: `request.operation must be one of ${OPERATIONS.join(', ')}, got ${describe(request.operation)}` };
  }
  if (request.kind !== undefined && !isRecord(request.kind)) {
    return { ok: false, error: `request.kind must be an object {group, version, kind}, got ${describe(request.kind)}` };
  }
  if (request.userInfo !== undefined && request.userInfo !== null && !isRecord(request.userInfo)) {
    return { ok: false, error: `request.userInfo must be an object, got ${describe(request.userInfo)}` };
  }
  return { ok: true, request: request as unknown as AdmissionRequest };
}

const RESPONSE_PREFIX = `{"apiVersion":"${ADMISSION_API_VERSION}","kind":"AdmissionReview","response":`;

/** The response review as the bytes to send. */
export function encodeAdmissionResponse(response: AdmissionResponse): string {
  return RESPONSE_PREFIX + JSON.stringify(response) + '}';
}

/** The plain `allowed: true` answer, without building an object for it. */
export function encodeAllowed(uid: string): string {
  return RESPONSE_PREFIX + '{"uid":' + JSON.stringify(uid) + ',"allowed":true}}';
}

/** The requesting user as the checks and exemptions see it (`userInfo` may be absent or partial). */
export function userOf(request: AdmissionRequest): { username: string; groups: string[] } {
  const info = request.userInfo;
  if (!isRecord(info)) return { username: '', groups: [] };
  const username = typeof info.username === 'string' ? info.username : '';
  const groups: string[] = [];
  const listed = info.groups;
  if (Array.isArray(listed)) for (let i = 0; i < listed.length; i++) if (typeof listed[i] === 'string') groups.push(listed[i] as string);
  return { username, groups };
}

/** The object's namespace: the request's, else the object's own metadata (cluster-scoped: ``). */
export function namespaceOf(request: AdmissionRequest): string {
  if (typeof request.namespace === 'string' && request.namespace) return request.namespace;
  const object = request.object ?? request.oldObject;
  if (isRecord(object) && isRecord(object.metadata) && typeof object.metadata.namespace === 'string') return object.metadata.namespace;
  return '';
}

/** The object's kind: the object's own `kind`, else the request's. */
export function kindOf(request: AdmissionRequest): string {
  const object = request.object ?? request.oldObject;
  if (isRecord(object) && typeof object.kind === 'string' && object.kind) return object.kind;
  const kind = request.kind;
  return isRecord(kind) && typeof kind.kind === 'string' ? kind.kind : '';
}

/** The object's name; for generateName objects (no name yet) the prefix. */
export function nameOf(request: AdmissionRequest): string {
  if (typeof request.name === 'string' && request.name) return request.name;
  const object = request.object ?? request.oldObject;
  if (isRecord(object) && isRecord(object.metadata)) {
    const meta = object.metadata;
    if (typeof meta.name === 'string' && meta.name) return meta.name;
    if (typeof meta.generateName === 'string') return meta.generateName;
  }
  return '';
}
