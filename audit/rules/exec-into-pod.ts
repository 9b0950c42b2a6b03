// exec-into-pod — a successful `exec` or `attach` into a pod. An interactive shell in a container
// bypasses the image, the admission checks and the deployment pipeline; in kube-system it is a
// shell next to the cluster's credentials. Fires at the ResponseStarted stage (the session opened);
// kubectl 1.30+ tries WebSocket (verb get) then SPDY (verb create): de-duplication makes them one alert.
import { queryParams } from '../event.js';
import { actor, qualified, type AuditRule } from './types.js';

export const execIntoPod: AuditRule = {
  id: 'exec-into-pod',
  title: 'Exec into a pod',
  severity: 'medium',
  tactics: ['Execution'],
  remediation:
    'Confirm the session was expected; if not, revoke pods/exec and pods/attach from the user, rotate any credentials the container could read and investigate the pod.',
  skipDryRun: false,
  match(f) {
    if (f.resource !== 'pods' || (f.subresource !== 'exec' && f.subresource !== 'attach')) return undefined;
    if ((f.verb !== 'create' && f.verb !== 'get') || !f.success || f.apiGroup !== '') return undefined;
    const command = queryParams(f.event, 'command');
    const container = queryParams(f.event, 'container')[0] ?? '';
    const pod = qualified(f.namespace, f.name);
    const message =
      f.subresource === 'exec'
        ? `${actor(f)} exec'd into pod ${pod}${command.length ? ` (${JSON.stringify(command.join(' '))})` : ''}`
        : `${actor(f)} attached to pod ${pod}`;
    return {
      message: container ? `${message} in container ${JSON.stringify(container)}` : message,
      severity: f.namespace === 'kube-system' ? 'high' : 'medium',
      evidence: { subresource: f.subresource, container, command },
    };
  },
};
