import { describe, expect, it } from 'vitest';
import { exposedDashboard } from '../../../policies/defender/exposed-dashboard.js';
import { evaluateWithConfig, GARBAGE, lists, pathsOf, runCheck } from './fixtures.js';

function service(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'kubernetes-dashboard' },
    spec: { ports: [{ port: 443, targetPort: 8443 }], ...spec },
  };
}

function ingress(spec: unknown, apiVersion = 'networking.k8s.io/v1'): Record<string, unknown> {
  return { apiVersion, kind: 'Ingress', metadata: { name: 'dash', namespace: 'ops' }, spec };
}

const v1Rule = (serviceName: string, host = 'dash.example.com') => ({
  host,
  http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: serviceName, port: { number: 443 } } } }] },
});

describe('exposed-dashboard: Services', () => {
  it.each([
    ['kubernetes-dashboard as a LoadBalancer', service('kubernetes-dashboard', { type: 'LoadBalancer' }), ['spec.type']],
    ['headlamp as a NodePort', service('headlamp', { type: 'NodePort' }), ['spec.type']],
    ['a ClusterIP Service with externalIPs', service('kubernetes-dashboard', { type: 'ClusterIP', externalIPs: ['203.0.113.7'] }), ['spec.externalIPs']],
    ['a -bounded name (my-headlamp)', service('my-headlamp', { type: 'NodePort' }), ['spec.type']],
    ['a longer name (kubernetes-dashboard-web)', service('kubernetes-dashboard-web', { type: 'LoadBalancer' }), ['spec.type']],
    [
      'an app.kubernetes.io/name selector',
      service('ui', { type: 'LoadBalancer', selector: { 'app.kubernetes.io/name': 'kubernetes-dashboard' } }),
      ['spec.type'],
    ],
    ['a k8s-app selector', service('web', { type: 'NodePort', selector: { 'k8s-app': 'weave-scope-app' } }), ['spec.type']],
    ['a selector value in another case', service('web', { type: 'NodePort', selector: { app: 'Headlamp' } }), ['spec.type']],
  ])('fires on %s', (_name, obj, paths) => {
    expect(pathsOf(exposedDashboard, obj)).toEqual(paths);
  });

  it.each([
    ['a ClusterIP dashboard', service('kubernetes-dashboard', { type: 'ClusterIP' })],
    ['a dashboard without type (ClusterIP)', service('kubernetes-dashboard', {})],
    ['an ExternalName Service', service('headlamp', { type: 'ExternalName', externalName: 'x.example.com' })],
    ['empty externalIPs', service('kubernetes-dashboard', { externalIPs: [] })],
    ['an exposed non-dashboard', service('web', { type: 'LoadBalancer', selector: { app: 'web' } })],
    ['a generic dashboard name', service('dashboard', { type: 'LoadBalancer' })],
    ['grafana-dashboard', service('grafana-dashboard', { type: 'LoadBalancer' })],
    ['a name containing a dashboard name inside a token (headlamps)', service('headlamps', { type: 'NodePort' })],
    ['a dashboard in a selector key, not value', service('web', { type: 'NodePort', selector: { headlamp: 'web' } })],
    ['a lower-case type', service('headlamp', { type: 'loadbalancer' })],
  ])('does not fire on %s', (_name, obj) => {
    expect(pathsOf(exposedDashboard, obj)).toEqual([]);
  });

  it('names the Service, the dashboard, how it was recognised and how it is exposed', () => {
    expect(runCheck(exposedDashboard, service('kubernetes-dashboard', { type: 'LoadBalancer' }))).toEqual([
      {
        policy: 'exposed-dashboard',
        severity: 'high',
        message: 'Service "kubernetes-dashboard" exposes the dashboard "kubernetes-dashboard" (by its name) outside the cluster through type LoadBalancer',
        path: 'spec.type',
      },
    ]);
    expect(runCheck(exposedDashboard, service('ui', { externalIPs: ['1.2.3.4'], selector: { 'app.kubernetes.io/name': 'headlamp' } }))[0]!.message).toBe(
      'Service "ui" exposes the dashboard "headlamp" (selector app.kubernetes.io/name=headlamp) outside the cluster on externalIPs',
    );
  });

  it('reads dashboard names from the lists', () => {
    const ctx = { lists: lists({ dashboardNames: ['argocd-server'] }) };
    expect(pathsOf(exposedDashboard, service('argocd-server', { type: 'LoadBalancer' }), ctx)).toEqual(['spec.type']);
    expect(pathsOf(exposedDashboard, service('kubernetes-dashboard', { type: 'LoadBalancer' }), ctx)).toEqual([]);
  });
});

describe('exposed-dashboard: Ingresses', () => {
  it.each([
    ['a networking/v1 rule backend', ingress({ rules: [v1Rule('web'), v1Rule('kubernetes-dashboard')] }), ['spec.rules[1].http.paths[0].backend.service.name']],
    ['a defaultBackend', ingress({ defaultBackend: { service: { name: 'headlamp', port: { number: 80 } } } }), ['spec.defaultBackend.service.name']],
    [
      'an extensions/v1beta1 serviceName',
      ingress({ rules: [{ http: { paths: [{ path: '/', backend: { serviceName: 'kubernetes-dashboard', servicePort: 443 } }] } }] }, 'extensions/v1beta1'),
      ['spec.rules[0].http.paths[0].backend.serviceName'],
    ],
    ['a v1beta1 default backend', ingress({ backend: { serviceName: 'k8dash', servicePort: 80 } }, 'networking.k8s.io/v1beta1'), ['spec.backend.serviceName']],
    [
      'every dashboard backend',
      ingress({
        defaultBackend: { service: { name: 'skooner' } },
        rules: [{ host: 'a', http: { paths: [{ backend: { service: { name: 'web' } } }, { backend: { service: { name: 'kube-ops-view' } } }] } }],
      }),
      ['spec.defaultBackend.service.name', 'spec.rules[0].http.paths[1].backend.service.name'],
    ],
  ])('fires on %s', (_name, obj, paths) => {
    expect(pathsOf(exposedDashboard, obj)).toEqual(paths);
  });

  it.each([
    ['ordinary backends', ingress({ rules: [v1Rule('web'), v1Rule('api')] })],
    ['a resource backend', ingress({ defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'Bucket', name: 'headlamp' } } })],
    ['no spec', ingress(undefined)],
    ['rules without http', ingress({ rules: [{ host: 'x' }] })],
  ])('does not fire on %s', (_name, obj) => {
    expect(pathsOf(exposedDashboard, obj)).toEqual([]);
  });

  it('names the Ingress, the route and the dashboard', () => {
    expect(runCheck(exposedDashboard, ingress({ rules: [v1Rule('kubernetes-dashboard')] }))[0]!.message).toBe(
      'Ingress "dash" routes host "dash.example.com" path "/" to the service "kubernetes-dashboard", the dashboard "kubernetes-dashboard"',
    );
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j', (g) => {
    expect(() => runCheck(exposedDashboard, ingress(g))).not.toThrow();
    expect(() => runCheck(exposedDashboard, ingress({ defaultBackend: g, backend: g, rules: g }))).not.toThrow();
    expect(() =>
      runCheck(
        exposedDashboard,
        ingress({ rules: [g, { http: g }, { http: { paths: g } }, { http: { paths: [g, { backend: g }, { backend: { service: g, serviceName: g } }] } }] }),
      ),
    ).not.toThrow();
    expect(() => runCheck(exposedDashboard, service('headlamp', { type: g, externalIPs: g, selector: g }))).not.toThrow();
    expect(() => runCheck(exposedDashboard, service('web', { type: 'NodePort', selector: { app: g } }))).not.toThrow();
    expect(() => runCheck(exposedDashboard, { kind: 'Service', metadata: g, spec: g })).not.toThrow();
  });

  it('fires through the configuration path', () => {
    expect(evaluateWithConfig('exposed-dashboard', ingress({ rules: [v1Rule('headlamp')] }))).toHaveLength(1);
    expect(evaluateWithConfig('exposed-dashboard', service('headlamp', { type: 'NodePort' }))).toHaveLength(1);
  });
});

describe('exposed-dashboard: following the dashboard pods by their labels and ExternalName aliases (#14 §4)', () => {
  it.each([
    [
      'a selector on weave scope pod labels that name nothing',
      service('frontend', { type: 'LoadBalancer', selector: { 'weave-scope-component': 'app', app: 'weave-scope' } }),
      'the dashboard "weave-scope-app" (its pods carry the selected labels weave-scope-component=app, app=weave-scope)',
    ],
    [
      'a selector on one distinctive weave scope label',
      service('x', { type: 'NodePort', selector: { 'weave-cloud-component': 'scope' } }),
      'the dashboard "weave-scope-app" (its pods carry the selected labels weave-cloud-component=scope)',
    ],
    [
      'the kubernetes-dashboard v7 chart kong proxy labels',
      service('gw', {
        type: 'LoadBalancer',
        selector: { 'app.kubernetes.io/name': 'kong', 'app.kubernetes.io/component': 'app', 'app.kubernetes.io/instance': 'kubernetes-dashboard' },
      }),
      '"kubernetes-dashboard" (selector app.kubernetes.io/instance=kubernetes-dashboard)',
    ],
  ])('fires on %s', (_name, obj, words) => {
    const findings = runCheck(exposedDashboard, obj);
    expect(findings.map((f) => f.path)).toEqual(['spec.type']);
    expect(findings[0]!.message).toContain(words);
  });

  it('an ExternalName Service aliasing a dashboard is flagged (an Ingress routing to the alias reaches it)', () => {
    const findings = runCheck(
      exposedDashboard,
      service('docs', { type: 'ExternalName', externalName: 'kubernetes-dashboard.kubernetes-dashboard.svc.cluster.local' }),
    );
    expect(findings.map((f) => [f.path, f.message])).toEqual([
      [
        'spec.externalName',
        'Service "docs" is an ExternalName alias of the dashboard service "kubernetes-dashboard.kubernetes-dashboard.svc.cluster.local" ("kubernetes-dashboard"); an Ingress or Gateway that routes to "docs" exposes the dashboard',
      ],
    ]);
    expect(pathsOf(exposedDashboard, service('docs', { type: 'ExternalName', externalName: 'HEADLAMP.tools.svc.' }))).toEqual(['spec.externalName']);
  });

  it.each([
    ['a selector on a generic label only (component=frontend)', service('web', { type: 'LoadBalancer', selector: { component: 'frontend' } })],
    ['a selector with a label dashboards do not carry', service('web', { type: 'LoadBalancer', selector: { 'weave-scope-component': 'app', tier: 'web' } })],
    ['ExternalName to an outside host', service('docs', { type: 'ExternalName', externalName: 'docs.example.com' })],
    ['ExternalName to another in-cluster service', service('db', { type: 'ExternalName', externalName: 'postgres.data.svc.cluster.local' })],
    ['a dashboard pod selector on a ClusterIP Service', service('frontend', { selector: { 'weave-scope-component': 'app' } })],
  ])('does not fire on %s', (_name, obj) => {
    expect(pathsOf(exposedDashboard, obj)).toEqual([]);
  });
});
