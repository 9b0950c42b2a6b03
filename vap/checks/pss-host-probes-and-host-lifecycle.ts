// pss-host-probes-and-host-lifecycle (v1.34): probes and lifecycle hooks name no host.
import { anyContainer, containerBad, firstContainer, message, stringOr } from '../cel.js';
import type { CheckCompiler } from '../types.js';

const FIELDS: string[] = [];
for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) for (const h of ['httpGet', 'tcpSocket']) FIELDS.push(`${probe}.${h}`);
for (const hook of ['postStart', 'preStop']) for (const h of ['httpGet', 'tcpSocket']) FIELDS.push(`lifecycle.${hook}.${h}`);

const host = (f: string): string => stringOr('c', `${f}.host`);

export const pssHostProbesAndHostLifecycle: CheckCompiler = {
  id: 'pss-host-probes-and-host-lifecycle',
  versions: ['v1.34'],
  compile(ctx) {
    const bad = containerBad(ctx, FIELDS.map((f) => `${host(f)} != ''`).join(' || '));
    const shown = `[${FIELDS.map((f) => `${host(f)} != '' ? '${f}.host="' + ${host(f)} + '"' : ''`).join(', ')}].filter(s, s != '').join(', ')`;
    return {
      target: 'pod',
      validations: [{ expression: `!${anyContainer(bad)}`, messageExpression: message(this.id, firstContainer(bad, `' must not set ' + ${shown}`)) }],
    };
  },
};
