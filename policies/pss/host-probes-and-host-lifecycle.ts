// hostProbesAndHostLifecycle (baseline, v1.34+)
//
// The host field is restricted in probes and lifecycle handlers: a probe or hook aimed at
// another host turns the kubelet into a proxy for the pod.
//
// Restricted Fields (for containers, initContainers and ephemeralContainers):
//   *.livenessProbe.httpGet.host, *.readinessProbe.httpGet.host, *.startupProbe.httpGet.host
//   *.livenessProbe.tcpSocket.host, *.readinessProbe.tcpSocket.host, *.startupProbe.tcpSocket.host
//   *.lifecycle.postStart.httpGet.host, *.lifecycle.preStop.httpGet.host
//   *.lifecycle.postStart.tcpSocket.host, *.lifecycle.preStop.tcpSocket.host
// Allowed Values: "", undefined/null
import { containersOf, describeContainer, isRecord, joinPath } from '../helpers.js';
import type { Finding } from '../types.js';
import { NO_FINDINGS, quote, report, stringField, type PssCheckDefinition } from './check.js';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const HOOKS = ['postStart', 'preStop'] as const;
const HANDLERS = ['httpGet', 'tcpSocket'] as const;
const HOOK_FIELDS = { postStart: 'lifecycle.postStart', preStop: 'lifecycle.preStop' } as const;

/** Appends `field.handler.host="h"` to `hosts` for each handler of a probe or hook that names a host. */
function hostsOf(action: unknown, field: string, hosts: string): string {
  if (!isRecord(action)) return hosts;
  for (const handler of HANDLERS) {
    const host = stringField(action[handler], 'host');
    if (host) hosts += (hosts ? ', ' : '') + `${field}.${handler}.host=${quote(host)}`;
  }
  return hosts;
}

export const hostProbesAndHostLifecycle: PssCheckDefinition = {
  psaId: 'hostProbesAndHostLifecycle',
  id: 'pss-host-probes-and-host-lifecycle',
  level: 'baseline',
  title: 'Probe or lifecycle hook targets another host',
  severity: 'medium',
  tactics: ['Lateral Movement', 'Discovery'],
  remediation: 'Remove the host field from httpGet and tcpSocket probes and lifecycle hooks; probe the pod itself.',
  versions: [
    {
      minimumVersion: 'v1.34',
      evaluate(subject, ctx) {
        let findings: Finding[] | undefined;
        for (const ref of containersOf(subject)) {
          let hosts = '';
          for (const probe of PROBES) hosts = hostsOf(ref.container[probe], probe, hosts);
          const lifecycle = ref.container.lifecycle;
          if (isRecord(lifecycle)) for (const hook of HOOKS) hosts = hostsOf(lifecycle[hook], HOOK_FIELDS[hook], hosts);
          if (!hosts) continue;
          const first = hosts.slice(0, hosts.indexOf('='));
          findings = report(findings, ctx, `${describeContainer(ref)} must not set ${hosts}`, joinPath(ref.path, first), ref.image);
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
