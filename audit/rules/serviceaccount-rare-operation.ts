// serviceaccount-rare-operation — a service account did something it never did while its baseline
// was learned (audit/anomaly.ts): for `anomaly.learningPeriod` (7 days of event time) from its first
// request, every successful operation it performs (verb, group/resource/subresource, namespace or
// cluster-wide) is learned; afterwards one outside that set alerts. A workload's token does the same
// few things every day; a stolen one, or a compromised pod, reaches for new ones (secrets, exec,
// other namespaces, RBAC). One alert per (account, operation) per de-duplication window. Accounts
// that learned `anomaly.maxOperationsPerAccount` operations (operators, CI) are too broad to judge.
import { serviceAccountRef } from '../anomaly.js';
import { actor, qualified, type AuditRule } from './types.js';

export const serviceaccountRareOperation: AuditRule = {
  id: 'serviceaccount-rare-operation',
  title: 'Service account performed an operation outside its learned baseline',
  severity: 'medium',
  tactics: ['Execution', 'Privilege Escalation', 'Credential Access', 'Discovery', 'Lateral Movement'],
  remediation:
    "Check what runs with this service account and whether the operation is expected (a new release may need it): if not, treat the account's token as stolen — rotate it (delete the pods or the token Secret), and narrow its Role; if it is, add an exception for the account.",
  skipDryRun: true,
  requires: ['serviceAccount'],
  judgedOnFacts: true,
  match(f) {
    const o = f.anomaly;
    if (o === undefined || o.state !== 'judging' || o.known) return undefined;
    const ended = new Date(o.learningEndsMs).toISOString();
    return {
      message: `${actor(f)} performed "${o.operation}", which it never did while its baseline was learned (${o.learned} operation${o.learned === 1 ? '' : 's'} learned until ${ended})`,
      evidence: {
        operation: o.operation,
        ...(f.name ? { object: qualified(f.namespace, f.name) } : {}),
        learnedOperations: o.learned,
        learningEnded: ended,
      },
      // The alert is about the account: one per (account, operation), whatever objects it touched.
      ...serviceAccountRef(f.username),
      distinct: o.operation,
    };
  },
};
