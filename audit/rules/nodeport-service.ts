// nodeport-service — a Service of type NodePort was created: it opens a port on every node, past
// the ingress controller and often past the firewall rules meant for the load balancers.
import { isRecord } from '../../core/record.js';
import { actor, qualified, type AuditRule } from './types.js';
import { objectOfWrite } from '../objects.js';

export const nodeportService: AuditRule = {
  id: 'nodeport-service',
  title: 'NodePort service created',
  severity: 'low',
  tactics: ['Initial Access'],
  remediation: 'Expose the service through an Ingress, Gateway or LoadBalancer instead, or restrict the node ports with network policy and firewall rules.',
  skipDryRun: true,
  requires: ['success', 'change'],
  resources: ['services'],
  match(f) {
    if (f.resource !== 'services' || f.apiGroup !== '' || f.verb !== 'create' || f.subresource !== '' || !f.success) return undefined;
    const svc = objectOfWrite(f.event);
    const spec = svc && isRecord(svc.spec) ? svc.spec : undefined;
    if (!spec || spec.type !== 'NodePort') return undefined;
    const ports = Array.isArray(spec.ports)
      ? spec.ports.filter(isRecord).map((p) => ({ port: p.port ?? null, nodePort: p.nodePort ?? null, protocol: p.protocol ?? 'TCP' }))
      : [];
    const name = f.name || nameOfObject(svc);
    return { message: `${actor(f)} created NodePort service ${qualified(f.namespace, name)}`, evidence: { ports } };
  },
};

function nameOfObject(obj: Record<string, unknown> | undefined): string {
  const meta = obj && isRecord(obj.metadata) ? obj.metadata : {};
  return typeof meta.name === 'string' ? meta.name : '';
}
