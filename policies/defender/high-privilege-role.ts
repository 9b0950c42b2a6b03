// high-privilege-role — flags a Role or ClusterRole rule that grants a permission which amounts to
// (or leads straight to) cluster or namespace takeover. A rule fires for each of these reasons,
// matched as the Kubernetes RBAC authorizer matches (policies/rbac.ts: `*` verbs, groups and
// resources, `*/<subresource>`, and conservatively `pods/*`):
// - every verb (`*`, or an explicit list of every standard verb: get, list, watch, create, update,
//   patch, delete, deletecollection) on every resource (`*`) of its API groups — other resource
//   reasons of the same rule are implied and not repeated;
// - every verb on core `pods` (run any pod, delete any pod);
// - `escalate` or `bind` on roles/clusterroles (grant permissions the holder does not have);
// - `impersonate` on users, groups, serviceaccounts or uids (act as anyone);
// - `get`, `list` or `watch` of core `secrets` (read any secret in scope; a rule restricted by
//   resourceNames reads only the named secrets and does not fire);
// - `create` or `get` on `pods/exec` or `pods/attach` (before Kubernetes 1.35 a WebSocket exec is
//   authorized as `get`, kubernetes/kubernetes#78741), `create` on `serviceaccounts/token`;
// - any verb on `nodes/proxy` (the kubelet API, past admission and audit): any read or write
//   verb, the ones the API server and the kubelet derive from HTTP methods (a `get` reaches
//   exec over WebSocket); `impersonate` or `bind` on `*` resources does not count here;
// - write (create, update, patch, delete, deletecollection) on mutating or validating webhook
//   configurations (admissionregistration.k8s.io): switch off or hijack admission control (a rule
//   restricted by resourceNames writes only the named configurations and does not fire);
// - `approve` on `signers`, or write on `certificatesigningrequests/approval`
//   (certificates.k8s.io): issue client certificates for any identity;
// - every verb (`*`, or every HTTP verb: get, post, put, patch, delete) on every non-resource URL:
//   `*`, or a prefix star whose prefix is `/` or empty (`/*`, `/**`: the authorizer trims trailing
//   `*`s and reads the rest as a prefix).
// Core resources live in the group "": a rule for group `apps` on `secrets` grants nothing. Apart
// from the secrets read and webhook writes, resourceNames do not silence a reason (binding one named ClusterRole, or
// exec into one named pod, is still the escalation). A ClusterRole with an aggregationRule gets
// its rules from the controller: what is present is checked, as for any other role.
import { NO_FINDINGS, isRecord, quoteList } from '../helpers.js';
import { ruleGrants, ruleResourceMatches, ruleStrings, trimTrailingStars } from '../rbac.js';
import type { Check, Finding, RoleSubject } from '../types.js';

export interface Target {
  group: string;
  resource: string;
  subresource?: string;
  /** The verbs that count. */
  verbs: readonly string[];
}

export interface Reason {
  targets: readonly Target[];
  /** Whether a rule restricted by resourceNames still counts. */
  anyName: boolean;
  why: string;
}

const RBAC = 'rbac.authorization.k8s.io';
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;
const READ = ['get', 'list', 'watch'] as const;
const READ_WRITE = [...READ, ...WRITE];

/** The takeover permissions, shared with the ValidatingAdmissionPolicy compiler (vap/checks/high-privilege-role.ts). */
export const REASONS: readonly Reason[] = [
  {
    targets: [
      { group: RBAC, resource: 'roles', verbs: ['escalate'] },
      { group: RBAC, resource: 'clusterroles', verbs: ['escalate'] },
    ],
    anyName: true,
    why: 'write roles with permissions the holder does not have',
  },
  {
    targets: [
      { group: RBAC, resource: 'roles', verbs: ['bind'] },
      { group: RBAC, resource: 'clusterroles', verbs: ['bind'] },
    ],
    anyName: true,
    why: 'bind roles with permissions the holder does not have',
  },
  {
    targets: [
      { group: '', resource: 'users', verbs: ['impersonate'] },
      { group: '', resource: 'groups', verbs: ['impersonate'] },
      { group: '', resource: 'serviceaccounts', verbs: ['impersonate'] },
      { group: 'authentication.k8s.io', resource: 'uids', verbs: ['impersonate'] },
    ],
    anyName: true,
    why: 'act as another user, group or service account',
  },
  {
    targets: [{ group: '', resource: 'secrets', verbs: READ }],
    anyName: false,
    why: 'read any secret in scope',
  },
  {
    targets: [{ group: '', resource: 'pods', subresource: 'exec', verbs: ['create', 'get'] }],
    anyName: true,
    why: 'run commands in pods in scope',
  },
  {
    targets: [{ group: '', resource: 'pods', subresource: 'attach', verbs: ['create', 'get'] }],
    anyName: true,
    why: 'attach to running containers in scope',
  },
  {
    targets: [{ group: '', resource: 'serviceaccounts', subresource: 'token', verbs: ['create'] }],
    anyName: true,
    why: 'mint tokens for service accounts in scope',
  },
  {
    targets: [{ group: '', resource: 'nodes', subresource: 'proxy', verbs: READ_WRITE }],
    anyName: true,
    why: 'reach the kubelet API directly, past admission control and audit',
  },
  {
    targets: [
      { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', verbs: WRITE },
      { group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations', verbs: WRITE },
    ],
    // A controller that keeps its own configurations' caBundle in sync (Bulwark's own chart,
    // cert-manager's cainjector) is granted patch on them by resourceNames: that does not fire.
    anyName: false,
    why: 'disable or hijack admission webhooks',
  },
  {
    targets: [
      { group: 'certificates.k8s.io', resource: 'signers', verbs: ['approve'] },
      { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'approval', verbs: WRITE },
    ],
    anyName: true,
    why: 'approve certificate signing requests, issuing credentials for any identity',
  },
];

/** Every verb of a resource request; a rule listing all of them is as wide as `*`. */
export const EVERY_RESOURCE_VERB: readonly string[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
/** Every verb of a non-resource request that changes or reads anything (the lower-cased HTTP method). */
export const EVERY_NON_RESOURCE_VERB: readonly string[] = ['get', 'post', 'put', 'patch', 'delete'];

function coversEvery(ruleVerbs: readonly string[], every: readonly string[]): boolean {
  return ruleVerbs.includes('*') || every.every((v) => ruleVerbs.includes(v));
}

/** The rule's verbs as written, for messages: `*`, or the list. */
function verbsAsWritten(ruleVerbs: readonly string[]): string {
  return ruleVerbs.includes('*') ? '*' : ruleVerbs.join(', ');
}

/** The first nonResourceURLs entry that covers every URL (`*`, `/*`, `/**`, `**`), or undefined. */
function everyURLPattern(rule: Record<string, unknown>): string | undefined {
  for (const u of ruleStrings(rule, 'nonResourceURLs')) {
    if (u === '*') return u;
    if (u.endsWith('*')) {
      const prefix = trimTrailingStars(u);
      if (prefix === '' || prefix === '/') return u;
    }
  }
  return undefined;
}

function label(t: Target): string {
  return t.subresource ? `${t.resource}/${t.subresource}` : t.resource;
}

/** `get, list on secrets` parts of the message for the targets the rule grants, or undefined. */
function grantedTargets(rule: Record<string, unknown>, reason: Reason, ruleVerbs: readonly string[]): string | undefined {
  let parts: { verbs: string; resources: string[] }[] | undefined;
  for (const t of reason.targets) {
    const shown: string[] = [];
    for (const v of t.verbs) {
      if (ruleGrants(rule, { verb: v, group: t.group, resource: t.resource, subresource: t.subresource }, { ignoreResourceNames: reason.anyName })) {
        shown.push(v);
      }
    }
    if (shown.length === 0) continue;
    // Name the verbs as the rule writes them: `*` rather than the expansion.
    const verbs = ruleVerbs.includes('*') ? '*' : shown.join(', ');
    const last = parts?.[parts.length - 1];
    if (last && last.verbs === verbs) last.resources.push(label(t));
    else (parts ??= []).push({ verbs, resources: [label(t)] });
  }
  return parts?.map((p) => `${p.verbs} on ${p.resources.join(', ')}`).join(' and ');
}

function namesSuffix(rule: Record<string, unknown>): string {
  const names = ruleStrings(rule, 'resourceNames');
  return names.length ? ` (only resourceNames ${quoteList(names)})` : '';
}

export const highPrivilegeRole: Check<RoleSubject> = {
  id: 'high-privilege-role',
  title: 'Role grants high privileges',
  severity: 'high',
  tactics: ['Privilege Escalation', 'Credential Access'],
  remediation:
    'Grant the specific verbs on the specific resources the subject needs (and resourceNames where possible); avoid wildcards, escalate, bind, impersonate, secret reads and exec in roles bound to workloads or people.',
  appliesTo: ['role'],
  evaluate(subject) {
    let findings: Finding[] | undefined;
    const rules = subject.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!isRecord(rule)) continue;
      const ruleVerbs = ruleStrings(rule, 'verbs');
      if (ruleVerbs.length === 0) continue;
      const push = (what: string, why: string): void => {
        (findings ??= []).push({
          policy: highPrivilegeRole.id,
          severity: highPrivilegeRole.severity,
          message: `rule ${i} grants ${what} (${why})`,
          path: `rules[${i}]`,
        });
      };
      const groups = ruleStrings(rule, 'apiGroups');
      const everyVerb = coversEvery(ruleVerbs, EVERY_RESOURCE_VERB);
      const everything = everyVerb && ruleStrings(rule, 'resources').includes('*') && groups.length > 0;
      if (everything) {
        const scope = groups.includes('*') ? 'every resource in scope' : `every resource of API groups ${quoteList(groups)} in scope`;
        push(`${verbsAsWritten(ruleVerbs)} on *${namesSuffix(rule)}`, `every verb on ${scope}`);
      } else {
        for (const reason of REASONS) {
          const what = grantedTargets(rule, reason, ruleVerbs);
          if (what !== undefined) push(reason.anyName ? what + namesSuffix(rule) : what, reason.why);
        }
        if (everyVerb && ruleResourceMatches(rule, '', 'pods')) {
          push(`${verbsAsWritten(ruleVerbs)} on pods${namesSuffix(rule)}`, 'every verb on pods in scope: run any pod, delete any pod');
        }
      }
      const url = everyURLPattern(rule);
      if (url !== undefined && coversEvery(ruleVerbs, EVERY_NON_RESOURCE_VERB)) {
        push(`${verbsAsWritten(ruleVerbs)} on nonResourceURLs ${url === '*' ? '*' : quoteList([url])}`, 'every verb on every non-resource URL');
      }
    }
    return findings ?? NO_FINDINGS;
  },
};
