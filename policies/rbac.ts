// RBAC rule matching as the Kubernetes RBAC authorizer does it (rbac/v1 PolicyRule), shared by the
// high-privilege-role check and the audit module. A rule is untrusted input: fields that are not
// lists, and entries that are not strings, grant nothing; nothing here throws.
//
// Kubernetes semantics (k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go):
// - verbs, apiGroups: `*` or the exact value;
// - resources: `*`, the exact `resource` or `resource/subresource`, or `*/<subresource>`;
// - resourceNames: an empty list allows every name, otherwise the request's name must be listed
//   (a request without a name — list, create, watch of a collection — is then not granted);
// - nonResourceURLs: `*`, the exact URL, or a prefix ending in `*` (every trailing `*` trimmed).
// Bulwark's one conservative extension (DESIGN.md): `<resource>/*` is read as every subresource
// of that resource (`pods/*` → pods/exec, pods/attach, …) and `*/*` as every subresource of every
// resource. Kubernetes matches those only literally, so flagging them costs nothing.
import { isRecord } from './subject.js';

export interface ResourceAttributes {
  verb: string;
  /** API group; `` for the core group (pods, secrets, serviceaccounts, nodes, …). */
  group: string;
  resource: string;
  subresource?: string;
  /** The object's name; omitted (or ``) for requests without one, which resourceNames-restricted rules do not grant. */
  name?: string;
}

export interface MatchOptions {
  /** Count a rule restricted by resourceNames as granting too (it grants the verb on some objects). */
  ignoreResourceNames?: boolean;
}

const NONE: readonly unknown[] = [];

function entries(rule: unknown, field: 'verbs' | 'apiGroups' | 'resources' | 'resourceNames' | 'nonResourceURLs'): readonly unknown[] {
  if (!isRecord(rule)) return NONE;
  const value = rule[field];
  return Array.isArray(value) ? value : NONE;
}

/** The string entries of one list field of a rule (`[]` when absent or not a list). */
export function ruleStrings(rule: unknown, field: 'verbs' | 'apiGroups' | 'resources' | 'resourceNames' | 'nonResourceURLs'): string[] {
  const out: string[] = [];
  for (const v of entries(rule, field)) if (typeof v === 'string') out.push(v);
  return out;
}

function matchesExactOrStar(list: readonly unknown[], value: string): boolean {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (v === '*' || v === value) return true;
  }
  return false;
}

/** True when the rule's verbs include `*` or `verb`. */
export function ruleVerbMatches(rule: unknown, verb: string): boolean {
  return matchesExactOrStar(entries(rule, 'verbs'), verb);
}

/** True when the rule's resources cover `resource` (or `resource/subresource`) in `group`. */
export function ruleResourceMatches(rule: unknown, group: string, resource: string, subresource?: string): boolean {
  if (!matchesExactOrStar(entries(rule, 'apiGroups'), group)) return false;
  const resources = entries(rule, 'resources');
  const sub = subresource ?? '';
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i];
    if (typeof r !== 'string') continue;
    if (r === '*') return true;
    if (!sub) {
      if (r === resource) return true;
      continue;
    }
    // `resource/subresource`, without building the combined string.
    if (r.length === resource.length + 1 + sub.length && r.startsWith(resource) && r[resource.length] === '/' && r.endsWith(sub)) return true;
    // Kubernetes: `*/<subresource>`.
    if (r.length === sub.length + 2 && r.startsWith('*/') && r.endsWith(sub)) return true;
    // Bulwark's conservative reading: `<resource>/*` and `*/*`.
    if (r === '*/*') return true;
    if (r.length === resource.length + 2 && r.endsWith('/*') && r.startsWith(resource)) return true;
  }
  return false;
}

function resourceNameMatches(rule: unknown, name: string | undefined): boolean {
  const names = entries(rule, 'resourceNames');
  if (names.length === 0) return true;
  if (!name) return false;
  return names.includes(name);
}

/** Whether `rule` grants the resource request, as the Kubernetes RBAC authorizer decides it. */
export function ruleGrants(rule: unknown, attrs: ResourceAttributes, options?: MatchOptions): boolean {
  return (
    ruleVerbMatches(rule, attrs.verb) &&
    ruleResourceMatches(rule, attrs.group, attrs.resource, attrs.subresource) &&
    (options?.ignoreResourceNames === true || resourceNameMatches(rule, attrs.name))
  );
}

/** `u` without its trailing `*`s (Go's strings.TrimRight(u, "*")). */
export function trimTrailingStars(u: string): string {
  let end = u.length;
  while (end > 0 && u.charCodeAt(end - 1) === 42 /* * */) end--;
  return u.slice(0, end);
}

/** Whether `rule` grants `verb` on the non-resource URL `url` (`/metrics`, `/healthz`, …). */
export function ruleGrantsNonResource(rule: unknown, verb: string, url: string): boolean {
  if (!ruleVerbMatches(rule, verb)) return false;
  const urls = entries(rule, 'nonResourceURLs');
  for (let i = 0; i < urls.length; i++) {
    const u = urls[i];
    if (typeof u !== 'string') continue;
    if (u === '*' || u === url) return true;
    // strings.TrimRight(ruleURL, "*"): `/**` is the prefix `/`, as `/*` is.
    if (u.endsWith('*') && url.startsWith(trimTrailingStars(u))) return true;
  }
  return false;
}
