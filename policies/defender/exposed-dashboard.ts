// exposed-dashboard — flags a cluster dashboard (lists.dashboardNames: kubernetes-dashboard,
// headlamp, weave-scope-app, …) reachable from outside the cluster: a Service of type LoadBalancer
// or NodePort, or with externalIPs, whose name or a selector value names a dashboard; or an Ingress
// whose backend service (spec.defaultBackend, spec.rules[].http.paths[].backend, and the older
// extensions/v1beta1 `serviceName` forms) names one. Exposed dashboards, often with a privileged
// service account or skippable login, are a well-trodden way into a cluster (Tesla, 2018).
//
// A name matches when the dashboard's `-`/`_`/`.`-separated tokens occur as a contiguous run of
// the value's tokens: `kubernetes-dashboard`, `my-headlamp`, `headlamp-prod` and
// `kubernetes-dashboard-web` match `kubernetes-dashboard`/`headlamp`; `dashboard`,
// `grafana-dashboard` and `headlamps` match nothing in the default list. Case is ignored.
// A Service finding points at what exposes it (`spec.type` or `spec.externalIPs`), an Ingress
// finding at the backend's service name; one finding per Service, one per Ingress backend.
import { NO_FINDINGS, compileTokenMatcher, describeObject, isRecord, joinPath, perList, quoteList, type TokenMatcher } from '../helpers.js';
import type { Check, Finding, IngressSubject, ServiceSubject } from '../types.js';

const dashboardMatcher = perList(compileTokenMatcher);

const EXPOSING_TYPES: ReadonlySet<unknown> = new Set(['LoadBalancer', 'NodePort']);

function serviceDashboard(subject: ServiceSubject, matcher: TokenMatcher): string | undefined {
  const byName = matcher.match(subject.ref.name);
  if (byName !== undefined) return `${quoteList([byName])} (by its name)`;
  const selector = subject.spec.selector;
  if (!isRecord(selector)) return undefined;
  for (const key of Object.keys(selector)) {
    const value = selector[key];
    if (typeof value !== 'string') continue;
    const hit = matcher.match(value);
    if (hit !== undefined) return `${quoteList([hit])} (selector ${key}=${value})`;
  }
  return undefined;
}

function evaluateService(subject: ServiceSubject, matcher: TokenMatcher): Finding[] {
  const spec = subject.spec;
  let exposure: string;
  let path: string;
  if (EXPOSING_TYPES.has(spec.type)) {
    exposure = `through type ${spec.type as string}`;
    path = 'spec.type';
  } else if (Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0) {
    exposure = 'on externalIPs';
    path = 'spec.externalIPs';
  } else {
    return NO_FINDINGS;
  }
  const dashboard = serviceDashboard(subject, matcher);
  if (dashboard === undefined) return NO_FINDINGS;
  return [
    {
      policy: exposedDashboard.id,
      severity: exposedDashboard.severity,
      message: `${describeObject(subject.ref)} exposes the dashboard ${dashboard} outside the cluster ${exposure}`,
      path,
    },
  ];
}

/** The service name of an Ingress backend (networking/v1 `service.name` or v1beta1 `serviceName`) and its field. */
function backendService(backend: unknown): { name: string; field: string } | undefined {
  if (!isRecord(backend)) return undefined;
  if (isRecord(backend.service) && typeof backend.service.name === 'string') return { name: backend.service.name, field: 'service.name' };
  if (typeof backend.serviceName === 'string') return { name: backend.serviceName, field: 'serviceName' };
  return undefined;
}

function evaluateIngress(subject: IngressSubject, matcher: TokenMatcher): Finding[] {
  let findings: Finding[] | undefined;
  const spec = subject.spec;
  const check = (backend: unknown, base: string, route: string): void => {
    const svc = backendService(backend);
    if (!svc) return;
    const hit = matcher.match(svc.name);
    if (hit === undefined) return;
    (findings ??= []).push({
      policy: exposedDashboard.id,
      severity: exposedDashboard.severity,
      message: `${describeObject(subject.ref)} routes ${route} to the service ${quoteList([svc.name])}, the dashboard ${quoteList([hit])}`,
      path: joinPath(base, svc.field),
    });
  };
  check(spec.defaultBackend, 'spec.defaultBackend', 'requests no rule matches');
  check(spec.backend, 'spec.backend', 'requests no rule matches');
  const rules = spec.rules;
  if (!Array.isArray(rules)) return findings ?? NO_FINDINGS;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (!isRecord(rule) || !isRecord(rule.http) || !Array.isArray(rule.http.paths)) continue;
    const host = typeof rule.host === 'string' && rule.host ? `host ${quoteList([rule.host])}` : 'any host';
    const paths = rule.http.paths;
    for (let j = 0; j < paths.length; j++) {
      const p = paths[j];
      if (!isRecord(p)) continue;
      const route = typeof p.path === 'string' && p.path ? `${host} path ${quoteList([p.path])}` : host;
      check(p.backend, `spec.rules[${i}].http.paths[${j}].backend`, route);
    }
  }
  return findings ?? NO_FINDINGS;
}

export const exposedDashboard: Check<ServiceSubject | IngressSubject> = {
  id: 'exposed-dashboard',
  title: 'Cluster dashboard exposed outside the cluster',
  severity: 'high',
  tactics: ['Initial Access'],
  remediation:
    'Keep the dashboard on a ClusterIP Service and reach it through `kubectl port-forward` or an authenticating proxy; remove the LoadBalancer/NodePort type, externalIPs or Ingress route.',
  appliesTo: ['service', 'ingress'],
  evaluate(subject, ctx) {
    const matcher = dashboardMatcher(ctx.lists.dashboardNames);
    return subject.type === 'service' ? evaluateService(subject, matcher) : evaluateIngress(subject, matcher);
  },
};
