// hostPorts (baseline, v1.0+)
//
// HostPorts should be disallowed entirely (recommended) or restricted to a known list.
//
// Restricted Fields:
//   spec.containers[*].ports[*].hostPort
//   spec.initContainers[*].ports[*].hostPort
//   spec.ephemeralContainers[*].ports[*].hostPort
// Allowed Values: undefined/null, 0
import { containersOf, describeContainer, isRecord, joinPath, quoteValue } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, report, type PssCheckDefinition } from './check.js';

export const hostPorts: PssCheckDefinition = {
  psaId: 'hostPorts',
  id: 'pss-host-ports',
  level: 'baseline',
  title: 'Container uses a host port',
  severity: 'medium',
  tactics: ['Lateral Movement', 'Defense Evasion'],
  remediation: 'Remove ports[*].hostPort (or set it to 0); expose the container through a Service instead.',
  versions: [
    {
      minimumVersion: 'v1.0',
      evaluate(subject, ctx) {
        let findings: Finding[] | undefined;
        for (const ref of containersOf(subject)) {
          const ports = ref.container.ports;
          if (!Array.isArray(ports)) continue;
          let first = -1;
          let used = '';
          for (let i = 0; i < ports.length; i++) {
            const port: unknown = ports[i];
            if (!isRecord(port) || !isHostPort(port.hostPort)) continue;
            if (first < 0) first = i;
            used += (used ? ', ' : '') + quoteValue(port.hostPort);
          }
          if (first < 0) continue;
          findings = report(
            findings,
            ctx,
            `${describeContainer(ref)} must not use hostPort ${used}`,
            joinPath(ref.path, `ports[${first}].hostPort`),
            ref.image,
          );
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};

/** PSA reads hostPort as an int32: anything but 0 (or absent) is a host port. */
function isHostPort(value: unknown): boolean {
  return value !== undefined && value !== null && value !== 0;
}
