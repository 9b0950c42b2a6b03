// kube-events-deleted — a user (not a `system:` identity) deleted Kubernetes events. Events record
// what happened to pods and nodes; deleting them is how an intruder wipes tracks. The API server
// expires events by itself (TTL), so a human delete is rarely routine.
// Who may delete events is data: lists.eventDeleters (globs; default system:*).
import { listOf } from '../../policies/lists.js';
import { actor, qualified, type AuditRule } from './types.js';

export const kubeEventsDeleted: AuditRule = {
  id: 'kube-events-deleted',
  title: 'Kubernetes events deleted',
  severity: 'medium',
  tactics: ['Defense Evasion'],
  remediation: 'Find out why the user deleted events; restrict delete on events (core and events.k8s.io) to the control plane.',
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: ['events'],
  judgedOnFacts: true,
  match(f, ctx) {
    if (f.resource !== 'events' || (f.apiGroup !== '' && f.apiGroup !== 'events.k8s.io')) return undefined;
    if ((f.verb !== 'delete' && f.verb !== 'deletecollection') || !f.success) return undefined;
    // Exemptions apply to the authenticated user: impersonating a system: identity is not one.
    if (f.impersonator === undefined && ctx.matches(listOf(ctx.lists, 'eventDeleters'), f.username)) return undefined;
    const what =
      f.verb === 'deletecollection'
        ? `all events in ${f.namespace ? `namespace ${f.namespace}` : 'every namespace'}`
        : `event ${qualified(f.namespace, f.name)}`;
    return { message: `${actor(f)} deleted ${what}` };
  },
};
