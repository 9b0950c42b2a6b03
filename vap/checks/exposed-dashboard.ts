// exposed-dashboard: no LoadBalancer/NodePort/externalIPs Service whose name or a selector value names a
// dashboard (lists.dashboardNames, whole token runs, by regex) or whose selector picks a known dashboard's pods
// (lists.dashboardPodLabels); no ExternalName alias of a dashboard Service; no Ingress backend naming one.
import { listLit, lit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';
import { tokenRunPattern } from './crypto-mining-image.js';

/** The engine's generic label keys (policies/defender/exposed-dashboard.ts): they say little on their own. */
const GENERIC_LABEL_KEYS = ['component', 'tier', 'role', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version', 'version'];

/** `name: k=v,k=v` entries → label maps, as the engine reads lists.dashboardPodLabels. */
function dashboardPods(list: readonly string[]): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (const entry of list) {
    const colon = entry.indexOf(':');
    if (colon <= 0) continue;
    const labels = new Map<string, string>();
    for (const pair of entry.slice(colon + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) labels.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    if (labels.size > 0) out.push(labels);
  }
  return out;
}

const mapLit = (m: Map<string, string>): string => `{${[...m].map(([k, v]) => `${lit(k)}: ${lit(v)}`).join(', ')}}`;

export const exposedDashboard: CheckCompiler = {
  id: 'exposed-dashboard',
  compile(ctx) {
    const pattern = tokenRunPattern(ctx.lists.dashboardNames, '\\-_.');
    if (!pattern) return { target: 'exposure', validations: [] };
    const names = (text: string): string => `${text}.lowerAscii().matches(${lit(pattern)})`;
    const exposed = `(has(object.spec.type) && object.spec.type in ['LoadBalancer', 'NodePort']) || (has(object.spec.externalIPs) && size(object.spec.externalIPs) > 0)`;
    // A selector that picks a known dashboard's pods (lists.dashboardPodLabels) with one distinctive key.
    const pods = dashboardPods(ctx.lists.dashboardPodLabels ?? []);
    const sel = 'object.spec.selector';
    const byPods = pods.length
      ? `(size(${sel}) > 0 && size(${sel}) <= 64 && ${sel}.exists(k, !(k in ${listLit(GENERIC_LABEL_KEYS)})) && ` +
        `(${pods.map((d) => `${sel}.all(k, k in ${mapLit(d)} && ${sel}[k] == ${mapLit(d)}[k])`).join(' || ')}))`
      : 'false';
    const service = `object.kind == 'Service' && has(object.spec) && !(has(object.spec.type) && object.spec.type == 'ExternalName') && (${exposed}) && ((has(object.metadata.name) && ${names('object.metadata.name')}) || (has(object.metadata.generateName) && (!has(object.metadata.name) || object.metadata.name == '') && ${names('object.metadata.generateName')}) || (has(${sel}) && (${sel}.exists(k, ${names(`${sel}[k]`)}) || ${byPods})))`;
    // An ExternalName alias of an in-cluster dashboard Service (`svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`).
    const host = `(object.spec.externalName.endsWith('.') ? object.spec.externalName.substring(0, object.spec.externalName.size() - 1) : object.spec.externalName).lowerAscii().split('.')`;
    const alias = `object.kind == 'Service' && has(object.spec) && has(object.spec.type) && object.spec.type == 'ExternalName' && has(object.spec.externalName) && object.spec.externalName != '' && object.spec.externalName.size() <= 253 && (size(${host}) <= 2 || ${host}[2] == 'svc') && ${host}[0].matches(${lit(pattern)})`;
    const backend = (b: string): string => `(has(${b}.service) && has(${b}.service.name) && ${names(`${b}.service.name`)})`;
    const ingress = `object.kind == 'Ingress' && has(object.spec) && ((has(object.spec.defaultBackend) && ${backend('object.spec.defaultBackend')}) || (has(object.spec.rules) && object.spec.rules.exists(rule, has(rule.http) && has(rule.http.paths) && rule.http.paths.exists(p, has(p.backend) && ${backend('p.backend')}))))`;
    return {
      target: 'exposure',
      validations: [
        {
          expression: `!((${service}) || (${ingress}) || (${alias}))`,
          messageExpression: message(
            this.id,
            `object.kind == 'Ingress' ? 'Ingress "' + object.metadata.name + '" routes requests to a dashboard service' : has(object.spec.type) && object.spec.type == 'ExternalName' ? 'Service "' + object.metadata.name + '" is an ExternalName alias of the dashboard service "' + object.spec.externalName + '"; an Ingress or Gateway that routes to it exposes the dashboard' : 'Service "' + object.metadata.name + '" exposes a dashboard outside the cluster through ' + (has(object.spec.type) && object.spec.type in ['LoadBalancer', 'NodePort'] ? 'type ' + object.spec.type : 'externalIPs')`,
          ),
        },
      ],
      differences: [
        'the message does not name the dashboard or the Ingress route; extensions/v1beta1 Ingress (serviceName) is not matched: API servers with ValidatingAdmissionPolicy no longer serve it',
      ],
    };
  },
};
