// The audit.k8s.io/v1 Event as the API server's log and webhook backends write it, and the few
// derived facts every rule needs (effective user, success, dry run, query parameters).
// Fields are untrusted: an audit log is input like any other.
import { isRecord } from '../core/record.js';
import { KIND_OF_JUDGED_RESOURCE } from '../policies/kinds.js';

export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';
export const AUDIT_STAGES: readonly string[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

export interface AuditUserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AuditObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

/** audit.k8s.io/v1 Event (https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/#audit-k8s-io-v1-Event). */
export interface AuditEvent {
  kind?: string;
  apiVersion?: string;
  level?: string;
  auditID: string;
  stage: AuditStage;
  requestURI?: string;
  verb?: string;
  user?: AuditUserInfo;
  impersonatedUser?: AuditUserInfo;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus?: { code?: number; status?: string; reason?: string; message?: string; [key: string]: unknown };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  annotations?: Record<string, string>;
}

/**
 * Checks that a parsed JSON value is an audit event (an object with an `auditID` and a known
 * `stage`); returns a reason when it is not. Other fields are read defensively by the rules.
 */
export function auditEventProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`;
  if (value.kind !== undefined && value.kind !== 'Event') return `kind ${JSON.stringify(value.kind)} is not an audit Event`;
  if (typeof value.auditID !== 'string' || value.auditID === '') return 'missing auditID';
  if (typeof value.stage !== 'string' || !AUDIT_STAGES.includes(value.stage)) return `unknown stage ${JSON.stringify(value.stage)}`;
  return undefined;
}

/** The user a request acted as: `impersonatedUser` when present, else `user`. */
export function effectiveUser(ev: AuditEvent): AuditUserInfo {
  return isRecord(ev.impersonatedUser) ? ev.impersonatedUser : isRecord(ev.user) ? ev.user : {};
}

export function usernameOf(u: AuditUserInfo | undefined): string {
  return u && typeof u.username === 'string' ? u.username : '';
}

export function groupsOf(u: AuditUserInfo | undefined): string[] {
  return u && Array.isArray(u.groups) ? u.groups.filter((g): g is string => typeof g === 'string') : [];
}

/** The HTTP status code of the response, or undefined when the stage has none yet. */
export function responseCode(ev: AuditEvent): number | undefined {
  const code = isRecord(ev.responseStatus) ? ev.responseStatus.code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** Successful: a response code below 400 (101 for an upgraded exec stream, 200, 201, …). */
export function succeeded(ev: AuditEvent): boolean {
  const code = responseCode(ev);
  return code !== undefined && code < 400;
}

function ref(ev: AuditEvent): AuditObjectRef {
  return isRecord(ev.objectRef) ? ev.objectRef : {};
}

export function resourceOf(ev: AuditEvent): string {
  const r = ref(ev).resource;
  return typeof r === 'string' ? r : '';
}

export function subresourceOf(ev: AuditEvent): string {
  const r = ref(ev).subresource;
  return typeof r === 'string' ? r : '';
}

export function apiGroupOf(ev: AuditEvent): string {
  const r = ref(ev).apiGroup;
  return typeof r === 'string' ? r : '';
}

export function namespaceOf(ev: AuditEvent): string {
  const r = ref(ev).namespace;
  return typeof r === 'string' ? r : '';
}

export function nameOf(ev: AuditEvent): string {
  const r = ref(ev).name;
  return typeof r === 'string' ? r : '';
}

export function verbOf(ev: AuditEvent): string {
  return typeof ev.verb === 'string' ? ev.verb : '';
}

export function requestURIOf(ev: AuditEvent): string {
  return typeof ev.requestURI === 'string' ? ev.requestURI : '';
}

/** The path of the request URI, without the query. */
export function requestPath(ev: AuditEvent): string {
  return pathOf(requestURIOf(ev));
}

/** A request URI's path, without the query. */
export function pathOf(uri: string): string {
  const q = uri.indexOf('?');
  return q >= 0 ? uri.slice(0, q) : uri;
}

/** All values of one query parameter of the request URI (`command` of an exec, `dryRun`, …). */
export function queryParams(ev: AuditEvent, name: string): string[] {
  const uri = requestURIOf(ev);
  const q = uri.indexOf('?');
  if (q < 0) return [];
  const out: string[] = [];
  for (const part of uri.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    const key = eq >= 0 ? part.slice(0, eq) : part;
    if (safeDecode(key) !== name) continue;
    out.push(eq >= 0 ? safeDecode(part.slice(eq + 1).replace(/\+/g, ' ')) : '');
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A dry run stored nothing; in the audit log only `?dryRun=All` in the request URI says so. */
export function isDryRun(ev: AuditEvent): boolean {
  const uri = requestURIOf(ev);
  if (!uri.includes('dryRun')) return false;
  return queryParams(ev, 'dryRun').includes('All');
}

/** `apps/v1`-style API version of the object reference (`v1` for the core group). */
export function refVersion(ev: AuditEvent): string {
  const v = ref(ev).apiVersion;
  return typeof v === 'string' ? v : '';
}

/** When the request was received (falls back to the stage time), in epoch milliseconds; NaN when unknown. */
export function eventTime(ev: AuditEvent): number {
  const t = typeof ev.requestReceivedTimestamp === 'string' ? ev.requestReceivedTimestamp : ev.stageTimestamp;
  return typeof t === 'string' ? parseTimestamp(t) : NaN;
}

let lastSecond = '';
let lastSecondMs = NaN;

/**
 * `Date.parse` for the API server's RFC 3339 micro-times (`2026-11-01T08:00:00.123456Z`), without
 * parsing the date again for every event of the same second (consecutive events mostly share it).
 * Anything of another shape (an offset, no seconds, odd digits) goes to `Date.parse` as it is.
 */
export function parseTimestamp(t: string): number {
  const n = t.length;
  if (n < 20 || n > 30 || t.charCodeAt(n - 1) !== 90 /* Z */ || t.charCodeAt(10) !== 84 /* T */) return Date.parse(t);
  const dot = t.charCodeAt(19);
  let ms = 0;
  if (dot === 46 /* . */) {
    // Fraction: 1 to 9 digits, milliseconds from the first three (Date.parse truncates the same way).
    if (n < 22) return Date.parse(t);
    for (let i = 20, scale = 100; i < n - 1; i++, scale /= 10) {
      const d = t.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return Date.parse(t);
      if (scale >= 1) ms += d * scale;
    }
  } else if (n !== 20) return Date.parse(t);
  const second = t.slice(0, 19);
  if (second !== lastSecond) {
    lastSecondMs = Date.parse(second + 'Z');
    lastSecond = second;
  }
  return lastSecondMs + ms;
}

/** Kinds of the resources Bulwark names in alerts; other resources keep their plural name. */
const KIND_OF_RESOURCE: Record<string, string> = {
  ...KIND_OF_JUDGED_RESOURCE,
  configmaps: 'ConfigMap',
  secrets: 'Secret',
  events: 'Event',
  namespaces: 'Namespace',
  nodes: 'Node',
  serviceaccounts: 'ServiceAccount',
  mutatingwebhookconfigurations: 'MutatingWebhookConfiguration',
  validatingwebhookconfigurations: 'ValidatingWebhookConfiguration',
  persistentvolumes: 'PersistentVolume',
  persistentvolumeclaims: 'PersistentVolumeClaim',
  networkpolicies: 'NetworkPolicy',
  customresourcedefinitions: 'CustomResourceDefinition',
  tokenreviews: 'TokenReview',
  subjectaccessreviews: 'SubjectAccessReview',
  selfsubjectaccessreviews: 'SelfSubjectAccessReview',
  certificatesigningrequests: 'CertificateSigningRequest',
  leases: 'Lease',
  endpoints: 'Endpoints',
  endpointslices: 'EndpointSlice',
};

export function kindOfResource(resource: string): string {
  // Own keys only: a resource named `constructor` or `__proto__` is just a name.
  return Object.hasOwn(KIND_OF_RESOURCE, resource) ? KIND_OF_RESOURCE[resource]! : resource;
}
