// exposed-service: a table of Services and Ingresses (admission path); the audit path and the
// background-scanner hook (podsFor) are checked at the end.
import { describe, expect, it } from 'vitest';
import { AuditAnalyser } from '../../../audit/analyser.js';
import { defaultConfig, parseConfig } from '../../../config/load.js';
import { exposedService } from '../../../policies/defender/exposed-service.js';
import { DEFAULT_LISTS } from '../../../policies/lists.js';
import { toSubject } from '../../../policies/subject.js';
import type { EvalContext } from '../../../policies/types.js';
import { auditEvent } from '../../audit/helpers.js';

const svc = (spec: Record<string, unknown>, name = 'cache', namespace = 'prod', annotations?: Record<string, string>) =>
  toSubject({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, spec })!;
const ing = (spec: Record<string, unknown>, namespace = 'prod') =>
  toSubject({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace }, spec })!;
const ctx = (extra: Partial<EvalContext> = {}): EvalContext => ({ lists: { ...defaultConfig().lists }, ...extra });
const run = (subject: ReturnType<typeof svc>, c = ctx()) => exposedService.evaluate(subject as never, c);
const lb = (port: number, extra: Record<string, unknown> = {}) => ({
  type: 'LoadBalancer',
  selector: { app: 'x' },
  ports: [{ port, targetPort: port }],
  ...extra,
});

describe('exposed-service', () => {
  it.each([
    ['Redis on a public LoadBalancer', svc(lb(6379)), 'exposes redis (port 6379)', 'high'],
    ['MongoDB on a NodePort', svc({ type: 'NodePort', ports: [{ port: 80, targetPort: 27017 }] }), 'exposes mongodb (port 27017) on every node', 'high'],
    ['Elasticsearch on externalIPs', svc({ type: 'ClusterIP', externalIPs: ['203.0.113.9'], ports: [{ port: 9200 }] }), 'on its externalIPs', 'high'],
    ['etcd with a 0.0.0.0/0 source range', svc(lb(2379, { loadBalancerSourceRanges: ['10.0.0.0/8', '0.0.0.0/0'] })), 'etcd', 'high'],
    ['the Docker API 2376', svc(lb(2376)), 'docker-api', 'high'],
    ['the kubelet 10250', svc(lb(10250)), 'kubelet', 'high'],
    ['Jupyter 8888', svc(lb(8888)), 'jupyter', 'high'],
    ['Argo Workflows server 2746', svc(lb(2746)), 'argo-workflows-server', 'high'],
    ['Jenkins agents 50000', svc(lb(50000)), 'jenkins (port 50000)', 'high'],
    ['Jenkins 8080 when the service names it', svc(lb(8080), 'jenkins'), 'jenkins (port 8080)', 'high'],
    ['PostgreSQL by port: medium', svc(lb(5432)), 'postgresql (port 5432)', 'medium'],
    ['a named target port', svc({ type: 'NodePort', ports: [{ port: 80, targetPort: 'redis' }] }), 'redis (port "redis")', 'high'],
    [
      'Kubeflow central dashboard by name in kubeflow',
      svc({ type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8082 }] }, 'centraldashboard', 'kubeflow'),
      'kubeflow (service name',
      'high',
    ],
    ['an ::/0 source-range annotation', svc(lb(6379), 'cache', 'prod', { 'service.beta.kubernetes.io/load-balancer-source-ranges': '::/0' }), 'redis', 'high'],
  ] as const)('fires on %s', (_n, subject, text, severity) => {
    const findings = run(subject);
    expect(findings.length).toBe(1);
    expect(findings[0]!.message).toContain(text);
    expect(findings[0]!.severity).toBe(severity);
  });

  it.each([
    ['Redis on a ClusterIP', svc({ type: 'ClusterIP', ports: [{ port: 6379 }] })],
    ['a LoadBalancer with narrow source ranges', svc(lb(6379, { loadBalancerSourceRanges: ['10.0.0.0/8', '192.168.1.0/24'] }))],
    ['narrow ranges in the annotation', svc(lb(6379), 'cache', 'prod', { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8' })],
    ['a web app on 8080', svc(lb(8080), 'shop')],
    ['an unlisted port', svc(lb(443))],
    ['centraldashboard outside kubeflow', svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }, 'centraldashboard', 'prod')],
    ['ports not a list', svc({ type: 'LoadBalancer', ports: 'x' })],
    ['no spec fields at all', svc({})],
  ] as const)('does not fire on %s', (_n, subject) => {
    expect(run(subject)).toEqual([]);
  });

  it.each([
    [
      'a backend port',
      ing({ rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'search', port: { number: 9200 } } } }] } }] }),
      'elasticsearch (by port)',
    ],
    ['a backend name', ing({ defaultBackend: { service: { name: 'jupyter', port: { number: 80 } } } }), 'jupyter (by name)'],
    ['v1beta1 serviceName/servicePort', ing({ backend: { serviceName: 'jenkins', servicePort: 8080 } }), 'jenkins'],
  ] as const)('Ingress: fires on %s', (_n, subject, text) => {
    const findings = run(subject);
    expect(findings.length).toBe(1);
    expect(findings[0]!.message).toContain(text);
  });

  it('Ingress: an ordinary backend does not fire', () => {
    expect(run(ing({ rules: [{ http: { paths: [{ backend: { service: { name: 'shop', port: { number: 8080 } } } }] } }] }))).toEqual([]);
  });

  it('the background scanner hook names the image; PostgreSQL with trust auth is high', () => {
    const podsFor = (ns: string, sel: Record<string, string>) =>
      ns === 'prod' && sel.app === 'x' ? [{ images: ['docker.io/library/postgres:16'], env: { POSTGRES_HOST_AUTH_METHOD: 'trust' } }] : [];
    const findings = run(svc(lb(5432)), ctx({ podsFor }));
    expect(findings[0]!.severity).toBe('high');
    expect(findings[0]!.image).toBe('docker.io/library/postgres:16');
    // By image alone, on a port the list does not know.
    const byImage = run(svc(lb(15432)), ctx({ podsFor }));
    expect(byImage[0]!.message).toContain('postgresql (image docker.io/library/postgres:16)');
  });

  it('the list is data: append an entry', () => {
    const config = parseConfig('lists: {exposedServices: {append: ["memcached: ports=11211"]}}');
    expect(config.lists.exposedServices).toEqual([...DEFAULT_LISTS.exposedServices!, 'memcached: ports=11211']);
    expect(run(svc(lb(11211)), ctx({ lists: config.lists }))[0]!.message).toContain('memcached');
  });

  it('the audit log: a Service created with the namespace only in the URL', () => {
    const ev = auditEvent({
      verb: 'create',
      level: 'Request',
      requestURI: '/api/v1/namespaces/prod/services',
      objectRef: { resource: 'services', namespace: 'prod', name: 'cache', apiVersion: 'v1' },
      requestObject: { kind: 'Service', apiVersion: 'v1', metadata: { name: 'cache' }, spec: lb(6379) },
      responseStatus: { metadata: {}, code: 201 },
    });
    const alerts = new AuditAnalyser({ config: defaultConfig() }).analyse(ev).filter((a) => a.type === 'exposed-service');
    expect(alerts.length).toBe(1);
    expect(alerts[0]!.namespace).toBe('prod');
    expect(alerts[0]!.tactics).toEqual(['Initial Access']);
  });
});
