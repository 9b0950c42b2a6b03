// port-forward — a port forwarded to a pod (`kubectl port-forward`): a tunnel from the client
// into the pod's network namespace, past NetworkPolicy and any ingress. SPDY clients send `create`
// on pods/portforward; WebSocket clients (kubectl 1.30+ with PortForwardWebsockets) send `get`.
// The session alerts when it opens (ResponseStarted, 101). Low: it is routine for developers, and
// the evidence keeps the ports. Through the kubelet API (nodes/proxy) it is exec-into-pod's (high).
import { queryParams } from '../event.js';
import { actor, isControlPlaneRequest, qualified, type AuditRule } from './types.js';

export const portForward: AuditRule = {
  id: 'port-forward',
  title: 'Port forwarded to a pod',
  severity: 'low',
  tactics: ['Lateral Movement', 'Command and Control'],
  remediation: 'Confirm the tunnel was expected; if not, revoke create/get on pods/portforward from the user and check what the forwarded port serves.',
  skipDryRun: false,
  requires: ['success'],
  resources: ['pods/portforward'],
  match(f, ctx) {
    if (f.resource !== 'pods' || f.subresource !== 'portforward' || f.apiGroup !== '') return undefined;
    if ((f.verb !== 'create' && f.verb !== 'get') || !f.success) return undefined;
    if (isControlPlaneRequest(f, ctx)) return undefined;
    const ports = queryParams(f.event, 'ports')
      .flatMap((p) => p.split(','))
      .filter((p) => p !== '')
      .slice(0, 32);
    return {
      message: `${actor(f)} port-forwarded to pod ${qualified(f.namespace, f.name)}${ports.length ? ` (ports ${ports.join(', ')})` : ''}`,
      evidence: { ports },
    };
  },
};
