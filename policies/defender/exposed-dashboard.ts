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
// A Service also exposes a dashboard when its selector picks the dashboard's pods by labels that do
// not name it: the selector is a subset of the pod template labels of a known dashboard deployment
// (lists.dashboardPodLabels, data from the dashboards' own manifests and charts) and holds at least
// one label that is not generic (`component`, `tier`, `role`, `app.kubernetes.io/component`, … say
// little on their own). Within one review only the Service is visible, so a selector on labels the
// dashboard's pods were given by hand (or a pod-template-hash) is not followed: that needs the pods.
//
// An ExternalName Service whose externalName is an in-cluster name of a dashboard Service
// (`kubernetes-dashboard.kubernetes-dashboard.svc.cluster.local`, `headlamp.tools`, …) is flagged on
// its own: Ingress controllers follow ExternalName, so an Ingress routing to the innocent-looking
// alias exposes the dashboard, and the Ingress review alone cannot see where the alias points.
//
// A Service finding points at what exposes it (`spec.type` or `spec.externalIPs`), an Ingress
// finding at the backend's service name; one finding per Service, one per Ingress backend.
import { NO_FINDINGS, compileTokenMatcher, describeObject, isRecord, joinPath, perList, quoteList, type TokenMatcher } from '../helpers.js';
import { DEFAULT_LISTS } from '../lists.js';
import type { Check, Finding, IngressSubject, ServiceSubject } from '../types.js';

const DEFAULT_DASHBOARD_POD_LABELS: readonly string[] = DEFAULT_LISTS.dashboardPodLabels ?? [];

const dashboardMatcher = perList(compileTokenMatcher);

const EXPOSING_TYPES: ReadonlySet<unknown> = new Set(['LoadBalancer', 'NodePort']);

/** Label keys that say little on their own: a selector needs at least one other key to point at a dashboard. */
const GENERIC_LABEL_KEYS: ReadonlySet<string> = new Set([
  'component',
  'tier',
  'role',
  'app.kubernetes.io/component',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/version',
  'version',
]);

interface DashboardPods {
  name: string;
  labels: Map<string, string>;
}

/** `name: k=v,k=v` entries → label sets; malformed entries are skipped. */
const dashboardPods = perList((list): DashboardPods[] => {
  const out: DashboardPods[] = [];
  for (const entry of list) {
    const colon = entry.indexOf(':');
    if (colon <= 0) continue;
    const labels = new Map<string, string>();
    for (const pair of entry.slice(colon + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      labels.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    if (labels.size > 0) out.push({ name: entry.slice(0, colon).trim(), labels });
  }
  return out;
});

/** The dashboard whose pods carry every label of the selector (with one distinctive label), or undefined. */
function dashboardBySelectedLabels(selector: Record<string, unknown>, known: readonly DashboardPods[]): string | undefined {
  const keys = Object.keys(selector);
  if (keys.length === 0 || keys.length > 64) return undefined;
  for (const d of known) {
    let distinctive = false;
    let all = true;
    for (const k of keys) {
      const v = selector[k];
      if (typeof v !== 'string' || d.labels.get(k) !== v) {
        all = false;
        break;
      }
      if (!GENERIC_LABEL_KEYS.has(k)) distinctive = true;
    }
    if (all && distinctive) return `${quoteList([d.name])} (its pods carry the selected labels ${keys.map((k) => `${k}=${selector[k] as string}`).join(', ')})`;
  }
  return undefined;
}

/** The dashboard an in-cluster ExternalName (`svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`) names, or undefined. */
function aliasedDashboard(externalName: unknown, matcher: TokenMatcher): string | undefined {
  if (typeof externalName !== 'string' || externalName === '' || externalName.length > 253) return undefined;
  const host = externalName.toLowerCase().replace(/\.$/, '');
  const labels = host.split('.');
  if (labels.length > 2 && labels[2] !== 'svc') return undefined;
  return matcher.match(labels[0]!);
}

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

function evaluateService(subject: ServiceSubject, matcher: TokenMatcher, known: readonly DashboardPods[]): Finding[] {
  const spec = subject.spec;
  if (spec.type === 'ExternalName') {
    const hit = aliasedDashboard(spec.externalName, matcher);
    if (hit === undefined) return NO_FINDINGS;
    const svc = quoteList([subject.ref.name]);
    return [
      {
        policy: exposedDashboard.id,
        severity: exposedDashboard.severity,
        message: `${describeObject(subject.ref)} is an ExternalName alias of the dashboard service ${quoteList([spec.externalName as string])} (${quoteList([hit])}); an Ingress or Gateway that routes to ${svc} exposes the dashboard`,
        path: 'spec.externalName',
      },
    ];
  }
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
  let dashboard = serviceDashboard(subject, matcher);
  if (dashboard === undefined && isRecord(spec.selector)) dashboard = dashboardBySelectedLabels(spec.selector, known);
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
    if (subject.type !== 'service') return evaluateIngress(subject, matcher);
    return evaluateService(subject, matcher, dashboardPods(ctx.lists.dashboardPodLabels ?? DEFAULT_DASHBOARD_POD_LABELS));
  },
};
