// admission.k8s.io/v1 AdmissionReview types, as the API server sends and expects them.
import type { K8sObject } from '../policies/types.js';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  /** Absent for generateName objects until the API server names them. */
  name?: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  operation: Operation;
  userInfo: UserInfo;
  object?: K8sObject | null;
  oldObject?: K8sObject | null;
  dryRun?: boolean;
  options?: K8sObject | null;
}

export interface StatusDetails {
  code?: number;
  message?: string;
  reason?: string;
  status?: 'Success' | 'Failure';
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: StatusDetails;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  patchType?: 'JSONPatch';
  /** base64 of the JSON array of RFC 6902 operations. */
  patch?: string;
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** One RFC 6902 operation. Bulwark only ever emits `add` (it never removes or overrides what a user set). */
export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
export function escapeJsonPointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
