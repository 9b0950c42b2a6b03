// exposed-service — flags a workload known to be dangerous when public (Redis, PostgreSQL, MongoDB,
// Elasticsearch, etcd, the Docker API, the kubelet, Jupyter, Kubeflow, Argo Workflows server,
// Jenkins) exposed outside the cluster: a Service of type LoadBalancer (without
// loadBalancerSourceRanges all narrower than the internet) or NodePort, a Service with
// externalIPs, or an Ingress backend. The workloads are data (lists.exposedServices), one entry a
// line: `name: ports=6379 images=redis severity=high`, keys:
//   ports      target or service ports that identify the workload on their own;
//   hintPorts  ports that identify it only when the Service's name or selector names the entry
//              (Jenkins' 8080 is every web app's port);
//   names      Service names (token runs) that identify it, optionally only in `namespaces`;
//   images     image names (token runs of the repository path) of the selected pods, matched when
//              the pods are known (the background scanner fills EvalContext.podsFor);
//   severity   high (default), medium or low.
// PostgreSQL is medium by port, high when its known pods set POSTGRES_HOST_AUTH_METHOD=trust.
import { NO_FINDINGS, compileTokenMatcher, describeObject, isRecord, perList, type TokenMatcher } from '../helpers.js';
import { listOf } from '../lists.js';
import type { Check, Finding, IngressSubject, ServiceSubject, Severity } from '../types.js';

export interface ExposedServiceEntry {
  name: string;
  ports: Set<number>;
  hintPorts: Set<number>;
  names: TokenMatcher | undefined;
  namespaces: string[];
  images: TokenMatcher | undefined;
  severity: Severity;
  self: TokenMatcher;
}

/** Parses `name: key=v1,v2 …` entries; bad entries are skipped (the schema accepts any string). */
export function parseExposedServices(list: readonly string[]): ExposedServiceEntry[] {
  const out: ExposedServiceEntry[] = [];
  for (const line of list) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const e: ExposedServiceEntry = {
      name,
      ports: new Set(),
      hintPorts: new Set(),
      names: undefined,
      namespaces: [],
      images: undefined,
      severity: 'high',
      self: compileTokenMatcher([name]),
    };
    for (const field of line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)) {
      const eq = field.indexOf('=');
      if (eq <= 0) continue;
      const key = field.slice(0, eq);
      const values = field
        .slice(eq + 1)
        .split(',')
        .filter((v) => v !== '');
      if (key === 'ports' || key === 'hintPorts')
        for (const v of values) {
          const n = Number(v);
          if (Number.isInteger(n) && n > 0 && n < 65536) e[key].add(n);
        }
      else if (key === 'names') e.names = compileTokenMatcher(values);
      else if (key === 'namespaces') e.namespaces = values;
      else if (key === 'images') e.images = compileTokenMatcher(values);
      else if (key === 'severity' && (values[0] === 'high' || values[0] === 'medium' || values[0] === 'low')) e.severity = values[0];
    }
    out.push(e);
  }
  return out;
}

const entriesOf = perList(parseExposedServices);

/** Whether a loadBalancerSourceRanges list lets the whole internet in (absent, empty, or a /0). */
function openToInternet(spec: Record<string, unknown>, annotations: Record<string, unknown>): boolean {
  let ranges: unknown[] = Array.isArray(spec.loadBalancerSourceRanges) ? spec.loadBalancerSourceRanges : [];
  const ann = annotations['service.beta.kubernetes.io/load-balancer-source-ranges'];
  if (ranges.length === 0 && typeof ann === 'string') ranges = ann.split(',');
  const texts = ranges
    .filter((r): r is string => typeof r === 'string')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (texts.length === 0) return true;
  return texts.some((r) => /\/0+$/.test(r));
}

function portNumbers(p: Record<string, unknown>): { numbers: number[]; named: string } {
  const numbers: number[] = [];
  if (typeof p.targetPort === 'number') numbers.push(p.targetPort);
  if (typeof p.port === 'number') numbers.push(p.port);
  return { numbers, named: typeof p.targetPort === 'string' ? p.targetPort : '' };
}

function strings(record: unknown): string[] {
  return isRecord(record) ? Object.values(record).filter((v): v is string => typeof v === 'string') : [];
}

function evaluateService(subject: ServiceSubject, entries: readonly ExposedServiceEntry[], ctx: Parameters<Check['evaluate']>[1]): Finding[] {
  const spec = subject.spec;
  const meta = isRecord(subject.object.metadata) ? subject.object.metadata : {};
  const annotations = isRecord(meta.annotations) ? meta.annotations : {};
  const externalIPs = Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0;
  let exposure: string | undefined;
  let path = 'spec.type';
  if (spec.type === 'NodePort') exposure = 'on every node (type NodePort)';
  else if (spec.type === 'LoadBalancer' && openToInternet(spec, annotations))
    exposure = 'through a load balancer open to the internet (type LoadBalancer without loadBalancerSourceRanges narrower than 0.0.0.0/0)';
  else if (externalIPs) {
    exposure = 'on its externalIPs';
    path = 'spec.externalIPs';
  }
  if (exposure === undefined) return NO_FINDINGS;
  const ports = Array.isArray(spec.ports) ? spec.ports.filter(isRecord).slice(0, 256) : [];
  const named = [subject.ref.name, ...strings(spec.selector)];
  const pods = ctx.podsFor && isRecord(spec.selector) ? ctx.podsFor(subject.ref.namespace, spec.selector as Record<string, string>) : [];
  const out: Finding[] = [];
  for (const e of entries) {
    let why: string | undefined;
    let severity = e.severity;
    for (const p of ports) {
      const { numbers, named: portName } = portNumbers(p);
      const hit = numbers.find((n) => e.ports.has(n)) ?? (named.some((t) => e.self.match(t)) ? numbers.find((n) => e.hintPorts.has(n)) : undefined);
      if (hit !== undefined) {
        why = `port ${hit}`;
        break;
      }
      if (portName && e.self.match(portName)) {
        why = `port ${JSON.stringify(portName)}`;
        break;
      }
    }
    if (!why && e.names && (e.namespaces.length === 0 || e.namespaces.includes(subject.ref.namespace)) && e.names.match(subject.ref.name))
      why = `service name ${JSON.stringify(subject.ref.name)}`;
    let image: string | undefined;
    for (const pod of pods) {
      const img = e.images ? pod.images.find((i) => e.images!.match(i.replace(/[@:][^/]*$/, ''))) : undefined;
      if (img) {
        image = img;
        why ??= `image ${img}`;
      }
      if (e.name === 'postgresql' && pod.env.POSTGRES_HOST_AUTH_METHOD === 'trust') severity = 'high';
    }
    if (!why) continue;
    out.push({
      policy: exposedService.id,
      severity,
      message: `${describeObject(subject.ref)} exposes ${e.name} (${why}${image && !why.startsWith('image') ? `, image ${image}` : ''}) ${exposure}`,
      path,
      ...(image ? { image } : {}),
    });
  }
  return out;
}

function evaluateIngress(subject: IngressSubject, entries: readonly ExposedServiceEntry[]): Finding[] {
  const spec = subject.spec;
  const backends: { backend: Record<string, unknown>; path: string }[] = [];
  if (isRecord(spec.defaultBackend)) backends.push({ backend: spec.defaultBackend, path: 'spec.defaultBackend' });
  if (isRecord(spec.backend)) backends.push({ backend: spec.backend, path: 'spec.backend' });
  const rules = Array.isArray(spec.rules) ? spec.rules.slice(0, 256) : [];
  rules.forEach((r, i) => {
    const paths = isRecord(r) && isRecord(r.http) && Array.isArray(r.http.paths) ? r.http.paths.slice(0, 256) : [];
    paths.forEach((p, j) => {
      if (isRecord(p) && isRecord(p.backend)) backends.push({ backend: p.backend, path: `spec.rules[${i}].http.paths[${j}].backend` });
    });
  });
  const out: Finding[] = [];
  for (const { backend, path } of backends) {
    const svc = isRecord(backend.service) ? backend.service : undefined;
    const name = typeof svc?.name === 'string' ? svc.name : typeof backend.serviceName === 'string' ? backend.serviceName : '';
    const port = svc && isRecord(svc.port) ? (svc.port.number ?? svc.port.name) : backend.servicePort;
    if (!name) continue;
    for (const e of entries) {
      const portHit = typeof port === 'number' && (e.ports.has(port) || (e.hintPorts.has(port) && e.self.match(name)));
      const nameHit =
        e.self.match(name) !== undefined ||
        (e.names !== undefined && e.names.match(name) !== undefined && (e.namespaces.length === 0 || e.namespaces.includes(subject.ref.namespace)));
      if (!portHit && !nameHit) continue;
      out.push({
        policy: exposedService.id,
        severity: e.severity,
        message: `${describeObject(subject.ref)} routes to the service ${JSON.stringify(name)}${port !== undefined ? ` port ${JSON.stringify(port)}` : ''}, ${e.name} (${portHit ? 'by port' : 'by name'}), from outside the cluster`,
        path,
      });
      break;
    }
  }
  return out;
}

export const exposedService: Check<ServiceSubject | IngressSubject> = {
  id: 'exposed-service',
  title: 'Dangerous service exposed outside the cluster',
  severity: 'high',
  tactics: ['Initial Access'],
  remediation:
    'Keep the service on a ClusterIP Service; if it must be reachable from outside, set loadBalancerSourceRanges to the networks that need it, put authentication in front of it, and remove NodePort/externalIPs/Ingress routes to it.',
  appliesTo: ['service', 'ingress'],
  evaluate(subject, ctx) {
    const entries = entriesOf(listOf(ctx.lists, 'exposedServices'));
    return subject.type === 'service' ? evaluateService(subject, entries, ctx) : evaluateIngress(subject, entries);
  },
};
