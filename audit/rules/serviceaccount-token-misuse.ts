// serviceaccount-token-misuse — a service account's token used the way a person or an attacker
// uses one, not the way its workload does: asking what it may do (SelfSubjectAccessReview,
// SelfSubjectRulesReview, SelfSubjectReview: `kubectl auth can-i`, `auth whoami`), from a human
// client (lists.humanClientUserAgents: kubectl, curl, python-requests, …), listing secrets across
// all namespaces, or exec/attach into a pod. Each sign counts only when the account's baseline
// (audit/anomaly.ts) did not already hold it before this request: a CI job that always runs
// kubectl learns it, and a sign seen for the first time alerts even while the account is still
// learning (it is what a token stolen on day one looks like). High when signs combine (kubectl
// asking what it may do), medium for one. One alert per (account, signs) per de-duplication window.
import type { Severity } from '../../core/severity.js';
import { serviceAccountRef } from '../anomaly.js';
import { actor, type AuditFacts, type AuditRule } from './types.js';

const SELF_REVIEWS: ReadonlyMap<string, string> = new Map([
  ['authorization.k8s.io/selfsubjectaccessreviews', 'SelfSubjectAccessReview'],
  ['authorization.k8s.io/selfsubjectrulesreviews', 'SelfSubjectRulesReview'],
  ['authentication.k8s.io/selfsubjectreviews', 'SelfSubjectReview'],
]);

interface Sign {
  id: 'self-review' | 'human-client' | 'secrets-all-namespaces' | 'exec';
  text: string;
}

function signsOf(f: AuditFacts): Sign[] {
  const signs: Sign[] = [];
  const known = f.anomaly?.known === true;
  const review = f.verb === 'create' && f.subresource === '' ? SELF_REVIEWS.get(`${f.apiGroup}/${f.resource}`) : undefined;
  if (review !== undefined && !known) signs.push({ id: 'self-review', text: `asked what it may do (${review})` });
  if (f.resource === 'secrets' && f.apiGroup === '' && f.namespace === '' && f.subresource === '' && (f.verb === 'list' || f.verb === 'watch') && !known) {
    signs.push({ id: 'secrets-all-namespaces', text: `${f.verb === 'watch' ? 'watched' : 'listed'} secrets across all namespaces` });
  }
  if (
    f.resource === 'pods' &&
    f.apiGroup === '' &&
    (f.subresource === 'exec' || f.subresource === 'attach') &&
    (f.verb === 'create' || f.verb === 'get') &&
    !known
  ) {
    signs.push({ id: 'exec', text: `${f.subresource === 'exec' ? "exec'd" : 'attached'} into pod ${f.namespace}/${f.name}` });
  }
  if (f.humanClient !== undefined && f.anomaly?.agentKnown !== true) {
    signs.push({ id: 'human-client', text: `was used from ${f.humanClient} (user agent ${JSON.stringify(f.userAgent.slice(0, 128))})` });
  }
  return signs;
}

export const serviceaccountTokenMisuse: AuditRule = {
  id: 'serviceaccount-token-misuse',
  title: "Service account token used like a person's or an attacker's",
  severity: 'medium',
  tactics: ['Credential Access', 'Discovery', 'Execution'],
  remediation:
    'Find where the token was used from (source IPs, user agent) and whether a person or a compromised pod holds it: rotate the token (delete the pods or the token Secret), check what the account can reach, and give people their own identities instead of service-account tokens.',
  skipDryRun: true,
  requires: ['serviceAccount'],
  judgedOnFacts: true,
  match(f) {
    if (f.serviceAccount !== true) return undefined;
    const signs = signsOf(f);
    if (signs.length === 0) return undefined;
    const severity: Severity = signs.length > 1 ? 'high' : 'medium';
    const baseline =
      f.anomaly === undefined || f.anomaly.state === 'untracked'
        ? ''
        : f.anomaly.state === 'learning'
          ? ' (first time for this account, which is still being learned)'
          : ' (never seen while its baseline was learned)';
    return {
      message: `the token of ${actor(f)} ${signs.map((s) => s.text).join(', and ')}${baseline}`,
      severity,
      evidence: { signs: signs.map((s) => s.id), ...(f.humanClient ? { client: f.humanClient } : {}), ...(f.anomaly ? { baseline: f.anomaly.state } : {}) },
      ...serviceAccountRef(f.username),
      distinct: signs
        .map((s) => s.id)
        .sort()
        .join(','),
    };
  },
};
