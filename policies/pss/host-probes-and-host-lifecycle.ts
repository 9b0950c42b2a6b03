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

/**
 * Appends `field.handler.host="h"` to `hosts` for each handler of a probe or hook that names a host.
 * Fields are read by name, here and in the check (a key from a table is a megamorphic keyed load
 * on every container of every review).
 */
function hostsOf(action: unknown, field: string, hosts: string): string {
  if (!isRecord(action)) return hosts;
  const httpGet = stringField(action.httpGet, 'host');
  if (httpGet) hosts += (hosts ? ', ' : '') + `${field}.httpGet.host=${quote(httpGet)}`;
  const tcpSocket = stringField(action.tcpSocket, 'host');
  if (tcpSocket) hosts += (hosts ? ', ' : '') + `${field}.tcpSocket.host=${quote(tcpSocket)}`;
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
          const container = ref.container;
          let hosts = hostsOf(container.livenessProbe, 'livenessProbe', '');
          hosts = hostsOf(container.readinessProbe, 'readinessProbe', hosts);
          hosts = hostsOf(container.startupProbe, 'startupProbe', hosts);
          const lifecycle = container.lifecycle;
          if (isRecord(lifecycle)) {
            hosts = hostsOf(lifecycle.postStart, 'lifecycle.postStart', hosts);
            hosts = hostsOf(lifecycle.preStop, 'lifecycle.preStop', hosts);
          }
          if (!hosts) continue;
          const first = hosts.slice(0, hosts.indexOf('='));
          findings = report(findings, ctx, `${describeContainer(ref)} must not set ${hosts}`, joinPath(ref.path, first), ref.image);
        }
        return findings ?? NO_FINDINGS;
      },
    },
  ],
};
