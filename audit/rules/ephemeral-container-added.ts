// ephemeral-container-added — an ephemeral container added to a running pod (`kubectl debug`):
// a shell in the pod's namespaces, with its service account and volumes, that the pod's own spec
// never declared. Two shapes reach the `pods/ephemeralcontainers` subresource:
//   - 1.22+: a Pod (update) or a patch of one (`{"spec":{"ephemeralContainers":[…]}}`);
//   - ≤1.21: the `EphemeralContainers` kind, `ephemeralContainers` at the top level.
// High in lists.systemNamespaces or when the container is privileged; medium otherwise.
import { isRecord } from '../../core/record.js';
import { listOf } from '../../policies/lists.js';
import { actor, isControlPlaneRequest, qualified, type AuditRule } from './types.js';

interface Added {
  name: string;
  image: string;
  command: string[];
  targetContainerName: string;
  privileged: boolean;
}

const MAX_LISTED = 16;

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string').slice(0, 64) : [];
}

/** The ephemeral containers a body names, in either shape (a patch body included). */
function addedContainers(body: unknown): Added[] {
  if (!isRecord(body)) return [];
  const list = Array.isArray(body.ephemeralContainers)
    ? body.ephemeralContainers
    : isRecord(body.spec) && Array.isArray(body.spec.ephemeralContainers)
      ? body.spec.ephemeralContainers
      : [];
  const out: Added[] = [];
  for (const c of list.slice(0, MAX_LISTED)) {
    if (!isRecord(c)) continue;
    const sc = isRecord(c.securityContext) ? c.securityContext : {};
    out.push({
      name: typeof c.name === 'string' ? c.name : '',
      image: typeof c.image === 'string' ? c.image : '',
      command: [...strings(c.command), ...strings(c.args)],
      targetContainerName: typeof c.targetContainerName === 'string' ? c.targetContainerName : '',
      privileged: sc.privileged === true,
    });
  }
  return out;
}

export const ephemeralContainerAdded: AuditRule = {
  id: 'ephemeral-container-added',
  title: 'Ephemeral container added to a pod',
  severity: 'medium',
  tactics: ['Execution', 'Privilege Escalation'],
  remediation:
    'Confirm the debug session was expected; if not, revoke update/patch on pods/ephemeralcontainers from the user and investigate the pod (an ephemeral container stays in the pod spec until the pod is deleted).',
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: ['pods/ephemeralcontainers'],
  match(f, ctx) {
    if (f.resource !== 'pods' || f.subresource !== 'ephemeralcontainers' || f.apiGroup !== '') return undefined;
    if ((f.verb !== 'update' && f.verb !== 'patch' && f.verb !== 'create') || !f.success) return undefined;
    if (isControlPlaneRequest(f, ctx)) return undefined;
    // The request body says what was added; the response (a whole Pod) lists every ephemeral container so far.
    const added = addedContainers(f.event.requestObject);
    const containers = added.length ? added : addedContainers(f.event.responseObject);
    const privileged = containers.some((c) => c.privileged);
    const system = listOf(ctx.lists, 'systemNamespaces').includes(f.namespace);
    const shown = containers.map(
      (c) => `${c.name || '(unnamed)'}${c.image ? ` (${c.image})` : ''}${c.targetContainerName ? ` targeting ${c.targetContainerName}` : ''}`,
    );
    return {
      message: `${actor(f)} added an ephemeral container to pod ${qualified(f.namespace, f.name)}${shown.length ? `: ${shown.join(', ')}` : ''}`,
      severity: system || privileged ? 'high' : 'medium',
      resource: { group: '', version: 'v1', kind: 'Pod', name: f.name },
      evidence: {
        containers,
        ...(containers.length ? {} : { note: 'no container in the event (audit level Metadata)' }),
        ...(containers[0]?.image ? { image: containers[0].image } : {}),
      },
    };
  },
};
