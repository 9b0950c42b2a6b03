// exposed-dashboard: no LoadBalancer/NodePort/externalIPs Service whose name or a selector value names a
// dashboard (lists.dashboardNames, whole token runs, by regex), and no Ingress backend naming one.
import { lit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';
import { tokenRunPattern } from './crypto-mining-image.js';

export const exposedDashboard: CheckCompiler = {
  id: 'exposed-dashboard',
  compile(ctx) {
    const pattern = tokenRunPattern(ctx.lists.dashboardNames, '\\-_.');
    if (!pattern) return { target: 'exposure', validations: [] };
    const names = (text: string): string => `${text}.lowerAscii().matches(${lit(pattern)})`;
    const exposed = `(has(object.spec.type) && object.spec.type in ['LoadBalancer', 'NodePort']) || (has(object.spec.externalIPs) && size(object.spec.externalIPs) > 0)`;
    const service = `object.kind == 'Service' && has(object.spec) && (${exposed}) && ((has(object.metadata.name) && ${names('object.metadata.name')}) || (has(object.metadata.generateName) && (!has(object.metadata.name) || object.metadata.name == '') && ${names('object.metadata.generateName')}) || (has(object.spec.selector) && object.spec.selector.exists(k, ${names('object.spec.selector[k]')})))`;
    const backend = (b: string): string => `(has(${b}.service) && has(${b}.service.name) && ${names(`${b}.service.name`)})`;
    const ingress = `object.kind == 'Ingress' && has(object.spec) && ((has(object.spec.defaultBackend) && ${backend('object.spec.defaultBackend')}) || (has(object.spec.rules) && object.spec.rules.exists(rule, has(rule.http) && has(rule.http.paths) && rule.http.paths.exists(p, has(p.backend) && ${backend('p.backend')}))))`;
    return {
      target: 'exposure',
      validations: [{
        expression: `!((${service}) || (${ingress}))`,
        messageExpression: message(this.id, `object.kind == 'Service' ? 'Service "' + object.metadata.name + '" exposes a dashboard outside the cluster through ' + (has(object.spec.type) && object.spec.type in ['LoadBalancer', 'NodePort'] ? 'type ' + object.spec.type : 'externalIPs') : 'Ingress "' + object.metadata.name + '" routes requests to a dashboard service'`),
      }],
      differences: ['the message does not name the dashboard or the Ingress route; extensions/v1beta1 Ingress (serviceName) is not matched: API servers with ValidatingAdmissionPolicy no longer serve it'],
    };
  },
};
